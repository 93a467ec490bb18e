return await CsFutures.Cluster.NodeProgram.RunAsync(args).ConfigureAwait(false);
