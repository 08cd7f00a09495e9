using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Pilot.ConsulTestAgent;

/// <summary>
/// A Consul agent stand-in over real HTTP (Kestrel) implementing the subset of Consul's HTTP API Pilot uses,
/// with Consul's paths, JSON shapes, <c>X-Consul-Index</c> blocking queries, TTL checks and the
/// DeregisterCriticalServiceAfter reaper. Faults are set from tests; every request is recorded.
/// </summary>
public sealed class ConsulTestAgent : IAsyncDisposable
{
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    // Cancelled by GoDownAsync; each handler links it into its RequestAborted and cuts its own connection, because
    // touching a pooled HttpContext from outside its request races with Kestrel recycling it.
    private CancellationTokenSource _goingDown = new();
    private readonly SemaphoreSlim _lifecycle = new(1, 1);
    private readonly AgentHttpApi _api;
    private WebApplication? _app;
    private TaskCompletionSource _requestSignal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile AgentFault _fault;

    private ConsulTestAgent(ConsulTestAgentOptions options)
    {
        Options = options;
        State = new AgentState(options);
        Port = options.Port;
        _api = new AgentHttpApi(State);
    }

    public ConsulTestAgentOptions Options { get; }

    /// <summary>The catalog behind the API; tests may seed or inspect it directly.</summary>
    public AgentState State { get; }

    /// <summary>The bound TCP port (stays the same across <see cref="GoDownAsync"/>/<see cref="ComeUpAsync"/>).</summary>
    public int Port { get; private set; }

    /// <summary><c>host:port</c>, the form Consul's <c>-http-addr</c> and Pilot's <c>consul</c> key take.</summary>
    public string HttpAddress => $"{Options.Host}:{Port}";

    public Uri BaseAddress => new($"http://{HttpAddress}/");

    public bool IsUp => _app is not null;

    public AgentFault Fault
    {
        get => _fault;
        set => _fault = value;
    }

    public static async Task<ConsulTestAgent> StartAsync(ConsulTestAgentOptions? options = null, CancellationToken cancellationToken = default)
    {
        var agent = new ConsulTestAgent(options ?? new ConsulTestAgentOptions());
        await agent.ComeUpAsync(cancellationToken).ConfigureAwait(false);
        return agent;
    }

    /// <summary>Every request received so far, oldest first.</summary>
    public ImmutableArray<RecordedRequest> Requests => [.. _requests];

    public void ClearRequests() => _requests.Clear();

    /// <summary>Waits for a request matching <paramref name="match"/> (one already received counts).</summary>
    public async Task<RecordedRequest> WaitForRequestAsync(Func<RecordedRequest, bool> match, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            var signal = _requestSignal.Task;
            var found = _requests.FirstOrDefault(match);
            if (found is not null)
            {
                return found;
            }
            try
            {
                await signal.WaitAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no matching request within {timeout}; received:\n{string.Join('\n', _requests)}");
            }
        }
    }

    /// <summary>
    /// Waits until <paramref name="condition"/> holds, re-checking on every state change or request, and every
    /// 50 ms for conditions on the client's side (which change after the agent's last answer).
    /// </summary>
    public async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string? what = null)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (!condition())
        {
            try
            {
                await Task.WhenAny(State.Changed, _requestSignal.Task, Task.Delay(50, cts.Token)).WaitAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"condition not met within {timeout}: {what}");
            }
        }
    }

    /// <summary>Stops listening: new connections are refused and requests in flight are cut.</summary>
    public async Task GoDownAsync()
    {
        await _lifecycle.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_app is null)
            {
                return;
            }
            await _goingDown.CancelAsync().ConfigureAwait(false);
            await _app.StopAsync().ConfigureAwait(false);
            await _app.DisposeAsync().ConfigureAwait(false);
            _app = null;
            _goingDown.Dispose();
            _goingDown = new CancellationTokenSource();
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>Listens again on the same port; the state is kept.</summary>
    public async Task ComeUpAsync(CancellationToken ct = default)
    {
        await _lifecycle.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_app is not null)
            {
                return;
            }
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
            builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Parse(Options.Host), Port));
            var app = builder.Build();
            app.Run(HandleAsync);
            await app.StartAsync(ct).ConfigureAwait(false);
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            Port = new Uri(address).Port;
            _app = app;
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>An agent restart that loses every registration (the index keeps rising). Down for the restart, then up.</summary>
    public async Task RestartEmptyAsync()
    {
        await GoDownAsync().ConfigureAwait(false);
        State.Clear();
        await ComeUpAsync().ConfigureAwait(false);
    }

    /// <summary>Loses every registration without a listening gap.</summary>
    public void RestartEmpty() => State.Clear();

    private async Task HandleAsync(HttpContext context)
    {
        var goingDown = _goingDown.Token;
        using var aborted = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, goingDown);
        context.RequestAborted = aborted.Token;
        try
        {
            var request = context.Request;
            string body;
            using (var reader = new StreamReader(request.Body))
            {
                body = await reader.ReadToEndAsync(context.RequestAborted).ConfigureAwait(false);
            }
            var token = request.Headers.TryGetValue("X-Consul-Token", out var t) ? t.ToString()
                : request.Query.TryGetValue("token", out var q) ? q.ToString() : null;
            _requests.Enqueue(new RecordedRequest(request.Method, request.Path.Value ?? "", request.QueryString.Value ?? "",
                body, token, Options.TimeProvider.GetUtcNow()));
            Interlocked.Exchange(ref _requestSignal, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

            switch (_fault)
            {
                case AgentFault.Hang:
                    await Task.Delay(Timeout.Infinite, context.RequestAborted).ConfigureAwait(false);
                    return;
                case AgentFault.Error500:
                    context.Response.StatusCode = 500;
                    await context.Response.WriteAsync("injected fault: agent error", context.RequestAborted).ConfigureAwait(false);
                    return;
                case AgentFault.None:
                default:
                    break;
            }
            if (Options.RequiredToken is { } required && token != required)
            {
                context.Response.StatusCode = 403;
                await context.Response.WriteAsync(string.IsNullOrEmpty(token) ? "Permission denied" : "ACL not found",
                    context.RequestAborted).ConfigureAwait(false);
                return;
            }
            await _api.HandleAsync(context, body).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away, or the agent went down: then the connection is cut, as a dying agent's would be.
            if (goingDown.IsCancellationRequested)
            {
                context.Abort();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await GoDownAsync().ConfigureAwait(false);
        State.Dispose();
        _lifecycle.Dispose();
    }
}
