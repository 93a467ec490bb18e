using System.Net;
using System.Text.Json;
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
internal static class DashboardWeb
{
    /// <summary>Where Orleans' dashboard is mapped.</summary>
    internal const string OrleansPrefix = "/orleans";

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
