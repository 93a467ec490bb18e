return await CsFutures.Cluster.NodeProgram.RunAsync(args, CsFutures.Cluster.Dashboard.DashboardWeb.AddTo).ConfigureAwait(false);
