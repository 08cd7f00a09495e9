using Pilot.Api.Cli;
using Pilot.Api.Control;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Pilot.Api.Hosting;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Control;
using Xunit;

namespace Pilot.Api.Tests.Support;

/// <summary>The real control plane on a real Unix socket in a temporary directory, backed by a fake supervisor.</summary>
internal sealed class ControlPlaneHost : IAsyncDisposable
{
    /// <summary>An upper bound for failing tests only (a green test never waits for it); generous for a loaded 2-core CI.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private ControlPlaneHost(ControlPlane controlPlane, ControlListener listener, ControlRequestCounter counter, TempDirectory directory,
        ControlConfig control, FakeSupervisorControl supervisor)
    {
        ControlPlane = controlPlane;
        Listener = listener;
        Counter = counter;
        Directory = directory;
        Control = control;
        Supervisor = supervisor;
        Client = ControlClient.CreateHttpClient(control.SocketPath, maxConnections: 32);
    }

    private readonly CancellationTokenSource _timeout = CreateTimeout();

    /// <summary>Bounds every await of a test: cancelled after <see cref="Timeout"/> or when xunit cancels the test.</summary>
    public CancellationToken Token => _timeout.Token;

    public static CancellationTokenSource CreateTimeout(TimeSpan? limit = null)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(limit ?? Timeout);
        return cts;
    }

    public ControlPlane ControlPlane { get; }
    public ControlListener Listener { get; }
    public TempDirectory Directory { get; }
    public ControlConfig Control { get; }
    public string SocketPath => Control.SocketPath;
    public FakeSupervisorControl Supervisor { get; }
    public HttpClient Client { get; }
    public ControlRequestCounter Counter { get; }

    public static async Task<ControlPlaneHost> StartAsync(
        TempDirectory? directory = null, int? socketMode = null, string environmentName = "Production",
        TimeSpan? idleAfter = null, ILoggerFactory? loggers = null)
    {
        directory ??= new TempDirectory();
        var control = new ControlConfig { SocketPath = directory.File("control.sock") };
        if (socketMode is { } mode)
        {
            control = control with { SocketMode = mode };
        }
        var supervisor = new FakeSupervisorControl();
        var counter = new ControlRequestCounter();
        var listener = ControlListener.Bind(control);
        using var timeout = CreateTimeout();
        var controlPlane = await ControlPlane.StartAsync(listener, new ControlPlaneOptions
        {
            Supervisor = supervisor,
            Observer = counter,
            EnvironmentName = environmentName,
            IdleAfter = idleAfter ?? OnDemandKestrel.IdleAfter,
            Loggers = loggers ?? NullLoggerFactory.Instance,
        }, timeout.Token);
        return new ControlPlaneHost(controlPlane, listener, counter, directory, control, supervisor);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        _timeout.Dispose();
        using var timeout = new CancellationTokenSource(Timeout);
        await ControlPlane.StopAsync(timeout.Token);
        await ControlPlane.DisposeAsync();
        Listener.Dispose();
        Directory.Dispose();
    }
}

/// <summary>A short-lived directory under /tmp (socket paths must stay under ~108 bytes).</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine("/tmp", "pilot-api-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A process under test may still hold a file; /tmp is cleaned eventually.
        }
    }
}
