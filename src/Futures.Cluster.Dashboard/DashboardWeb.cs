using System.Net;
using System.Text.Json;
using CsFutures.Cluster.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Dashboard;

namespace CsFutures.Cluster.Dashboard;

/// <summary>
/// A node's <c>--dashboard</c> web server (ASP.NET Core's Kestrel in the node's host): our page at
/// <c>/</c>, its figures at <c>/api/cluster</c>, and Orleans' own dashboard (Microsoft.Orleans.Dashboard)
/// at <see cref="OrleansPrefix"/>.
/// </summary>
public static class DashboardWeb
{
    /// <summary>Where Orleans' dashboard is mapped.</summary>
    internal const string OrleansPrefix = ClusterNames.OrleansDashboardPrefix;

    /// <summary>What the node program adds to every node: Orleans' dashboard services on the silo, and,
    /// for a node with <see cref="ClusterNodeOptions.Dashboard"/>, the web server.</summary>
    public static void AddTo(ClusterNodeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ConfigureSilo = silo => silo.AddDashboard();
        if (options.Dashboard is { } endpoint)
        {
            options.ConfigureHost = host => host.AddDashboardWeb(endpoint);
        }
    }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static readonly Lazy<byte[]> Page = new(() =>
    {
        using var stream = typeof(DashboardWeb).Assembly.GetManifestResourceStream("CsFutures.Cluster.Dashboard.index.html")
            ?? throw new InvalidOperationException("the dashboard page is not embedded");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    /// <summary>Adds the web server, listening on <paramref name="endpoint"/>, and the sampler behind
    /// <c>/api/cluster</c> to the node's host.</summary>
    internal static IHostBuilder AddDashboardWeb(this IHostBuilder host, IPEndPoint endpoint) =>
        host
            .ConfigureServices(services =>
            {
                services.AddSingleton<DashboardSampler>();
                services.AddHostedService(sp => sp.GetRequiredService<DashboardSampler>());
            })
            .ConfigureWebHost(web => web
                .UseKestrel(k => k.Listen(endpoint))
                .ConfigureServices(services => services.AddRouting())
                .Configure(app =>
                {
                    app.UseRouting();
                    app.UseEndpoints(Map);
                }));

    private static void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/", () => Results.Bytes(Page.Value, "text/html; charset=utf-8"));
        endpoints.MapGet("/api/cluster", (DashboardSampler sampler, HttpContext context) =>
        {
            context.Response.Headers.CacheControl = "no-store";
            return Results.Json(sampler.Latest, Json);
        });
        endpoints.MapOrleansDashboard(routePrefix: OrleansPrefix);
    }
}
