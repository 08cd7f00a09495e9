using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Abstractions;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Pilot.Api.Hosting;

/// <summary>
/// Kestrel driven directly for Pilot's own listeners: one endpoint, one request delegate, and nothing else — no web
/// host of its own (the control plane is one hosted service of Pilot's generic host), no dependency-injection container,
/// no configuration sources. So nothing of the application's container reaches Pilot's listeners (no
/// <c>appsettings.json</c> with its <c>Kestrel:Endpoints</c> and its recursive file watcher, no <c>ASPNETCORE_URLS</c>),
/// and start-up is Kestrel's own: a web host and container around it cost more than Kestrel did.
/// </summary>
internal sealed class KestrelHost : IAsyncDisposable
{
    /// <summary>How long a stop without a deadline of its own lets requests in flight finish.</summary>
    public static readonly TimeSpan StopLimit = TimeSpan.FromSeconds(5);

    private readonly KestrelServer _server;

    private KestrelHost(KestrelServer server) => _server = server;

    /// <summary>Where Kestrel listens (e.g. <c>http://unix:/path</c>, or the real port when 0 was asked).</summary>
    public ICollection<string> Addresses => _server.Features.Get<IServerAddressesFeature>()!.Addresses;

    /// <summary>
    /// Starts Kestrel with the endpoint and limits <paramref name="configure"/> sets, serving <paramref name="application"/>
    /// over <paramref name="transport"/>.
    /// </summary>
    public static async Task<KestrelHost> StartAsync(Action<KestrelServerOptions> configure, RequestDelegate application,
        IConnectionListenerFactory transport, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var options = new KestrelServerOptions { AddServerHeader = false, ApplicationServices = NoServices.Instance };
        configure(options);
        var server = new KestrelServer(Options.Create(options), transport, loggers);
        try
        {
            await server.StartAsync(new DelegateApplication(application), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            server.Dispose();
            throw;
        }
        return new KestrelHost(server);
    }

    public Task StopAsync(CancellationToken cancellationToken) => _server.StopAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(StopLimit);
        await _server.StopAsync(timeout.Token).ConfigureAwait(false);
        _server.Dispose();
    }

    /// <summary>One <see cref="DefaultHttpContext"/> per connection, reused from request to request as the web host does.</summary>
    private sealed class DelegateApplication(RequestDelegate application) : IHttpApplication<HttpContext>
    {
        public HttpContext CreateContext(IFeatureCollection contextFeatures)
        {
            if (contextFeatures is IHostContextContainer<HttpContext> container)
            {
                if (container.HostContext is DefaultHttpContext reused)
                {
                    reused.Initialize(contextFeatures);
                    return reused;
                }
                var created = new DefaultHttpContext(contextFeatures);
                container.HostContext = created;
                return created;
            }
            return new DefaultHttpContext(contextFeatures);
        }

        public Task ProcessRequestAsync(HttpContext context) => application(context);

        public void DisposeContext(HttpContext context, Exception? exception) => (context as DefaultHttpContext)?.Uninitialize();
    }

    /// <summary>Kestrel asks its options for services only for features Pilot does not use (HTTPS, configuration).</summary>
    private sealed class NoServices : IServiceProvider
    {
        public static readonly NoServices Instance = new();

        public object? GetService(Type serviceType) => null;
    }
}
