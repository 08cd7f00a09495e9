using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using Pilot.Api.Cli;
using Pilot.Api.Control;
using Pilot.Api.Hosting;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Hosting;
using Pilot.Api.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Logging;
using Pilot.Supervisor.Logging;

namespace Pilot.Api;

/// <summary>The run path: the control plane on its socket with the supervisor as a hosted service.</summary>
internal static class PilotHost
{
    public static async Task<int> RunAsync(string configPath, PilotConfig config, SignalRelay signals, DevListener? devListener, CancellationToken cancellationToken)
    {
        // Each child holds pool threads (output pumps, exit waits); on a 2-core container the default minimum of 2 would
        // let a few jobs delay control-plane answers until the pool grows.
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 32), Math.Max(io, 32));
        var builder = ControlPlane.CreateBuilder(config.Control, devListener: devListener);
        builder.Services.AddSingleton(signals);
        builder.Services.AddPilotSupervisor(new PilotSupervisorOptions
        {
            ConfigPath = configPath,
            Config = config,
            Version = BuildInfo.Version,
        });
        builder.Services.AddSingleton<TelemetryServer>();
        builder.Services.AddSingleton<ISupervisedComponent>(provider => provider.GetRequiredService<TelemetryServer>());
        builder.Services.AddSingleton<IControlRequestObserver, MetricsControlObserver>();
        builder.Services.AddHostedService(provider => new IdleHeapTrimmer(TimeProvider.System, provider.GetRequiredService<LogWriter>()));
        await using var app = builder.Build();
        app.MapControlPlane();
        try
        {
            await app.StartControlPlaneAsync(config.Control, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Net.Sockets.SocketException)
        {
            var message = ex is ControlSocketInUseException or ControlSocketPathTakenException
                ? ex.Message
                : $"error listening to socket at {config.Control.SocketPath}: {ex.Message}";
            await Console.Out.WriteLineAsync(PilotCli.LogLine(TimeProvider.System, message)).ConfigureAwait(false);
            return PilotCli.ExitFailure;
        }
        catch (Exception ex) when (FindComponentFailure(ex) is { } failure)
        {
            await Console.Out.WriteLineAsync(PilotCli.LogLine(TimeProvider.System, failure.Message)).ConfigureAwait(false);
            return PilotCli.ExitFailure;
        }
        if (devListener is not null)
        {
            WarnAboutDevListener(app);
        }
        // The supervisor stops the host when every job has halted or a shutdown completed, and sets the exit code.
        await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
        return Environment.ExitCode;
    }

    private static void WarnAboutDevListener(WebApplication app)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Pilot.Api.Control");
        foreach (var address in app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [])
        {
            if (!address.StartsWith("http://unix:", StringComparison.Ordinal))
            {
                logger.LogWarning(
                    "control: also serving over plain HTTP at {Address} ({Flag}; development only, no authentication); Swagger UI at {Address}/swagger",
                    address, DevListener.FlagName, address);
            }
        }
    }

    /// <summary>The host rethrows a start failure as is, or inside an AggregateException when several services failed.</summary>
    private static ComponentStartException? FindComponentFailure(Exception ex) => ex switch
    {
        ComponentStartException failure => failure,
        AggregateException all => all.InnerExceptions.Select(FindComponentFailure).FirstOrDefault(f => f is not null),
        _ => null,
    };
}
