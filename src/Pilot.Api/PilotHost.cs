using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pilot.Api.Cli;
using Pilot.Api.Control;
using Pilot.Api.Footprint;
using Pilot.Api.Hosting;
using Pilot.Api.Telemetry;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Hosting;

namespace Pilot.Api;

/// <summary>
/// The run path: the control socket is bound first, then the generic host starts Pilot's hosted services (the control
/// plane, the reaper and signals, the job graph, Consul sync, telemetry); Pilot runs until every job has halted or a
/// shutdown (SIGTERM) has completed, and the host stops them in reverse.
/// </summary>
internal static class PilotHost
{
    public static async Task<int> RunAsync(
        string configPath, PilotConfig config, SignalRelay signals, DevListener? devListener, CancellationToken cancellationToken)
    {
        if (ListenerIdle.Error() is { } idleError)
        {
            return await FailAsync(idleError).ConfigureAwait(false);
        }
        // v3 listens before it starts jobs: a job may call `pilot -putenv` at once, and waits in the backlog until
        // Kestrel accepts.
        ControlListener listener;
        try
        {
            listener = ControlListener.Bind(config.Control);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Net.Sockets.SocketException)
        {
            var message = ex is ControlSocketInUseException or ControlSocketPathTakenException
                ? ex.Message
                : $"error listening to socket at {config.Control.SocketPath}: {ex.Message}";
            return await FailAsync(message).ConfigureAwait(false);
        }
        using (listener)
        {
            ILogger? controlLog = null;
            await using var runtime = SupervisorRuntime.Create(
                new PilotSupervisorOptions
                {
                    ConfigPath = configPath, Config = config, Version = BuildInfo.Version,
                    ReloadStages = stage => ControlPlane.LogReloadStage(controlLog!, listener.SocketPath, stage),
                },
                runtime => [new TelemetryServer(runtime.Registry, () => runtime.Supervisor, runtime.Loggers, ListenerIdle.TelemetryIdleAfter)]);
            controlLog = runtime.Loggers.CreateLogger("control");
            // Memory and start-up (its thread-pool minimum is set now, before any job starts).
            await using var footprint = new FootprintService(TimeProvider.System, runtime.Log, new ExecutablePages(runtime.Log, ExecutablePages.ProcessMappings));
            await using var control = new ControlPlaneService(listener, new ControlPlaneOptions
            {
                Supervisor = runtime.Supervisor,
                Observer = new MetricsControlObserver(runtime.Metrics),
                Loggers = runtime.Loggers,
                DevListener = devListener,
                IdleAfter = ListenerIdle.ControlIdleAfter,
            });
            // Start order (stop is the reverse): the control plane, the reaper and signals, the job graph, Consul sync,
            // telemetry (PilotGenericHost), then the footprint (start-up pages, idle heap).
            var builder = PilotGenericHost.CreateBuilder(runtime.Loggers);
            builder.Services.AddSingleton<IHostedService>(control);
            runtime.AddHostedServices(builder.Services, signals);
            builder.Services.AddSingleton<IHostedService>(footprint);
            using var host = builder.Build();
            try
            {
                await host.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ComponentStartException failure)
            {
                // A listener beside the jobs (telemetry) that cannot start is fatal, as in v3.
                return await FailAsync(failure.Message).ConfigureAwait(false);
            }
            // The supervisor completes when every job has halted or a shutdown completed, with Pilot's exit code. The
            // host is stopped only after its start has returned: a stop during start-up would cancel what is starting.
            var exitCode = await runtime.Completion.WaitAsync(cancellationToken).ConfigureAwait(false);
            await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
            return exitCode;
        }
    }

    private static async Task<int> FailAsync(string message)
    {
        await Console.Out.WriteLineAsync(PilotCli.LogLine(TimeProvider.System, message)).ConfigureAwait(false);
        return PilotCli.ExitFailure;
    }
}
