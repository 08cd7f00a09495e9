using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using Pilot.Api.Cli;
using Pilot.Api.Control;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Hosting;
using Pilot.Api.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace Pilot.Api;

/// <summary>The run path: the control plane on its socket with the supervisor as a hosted service.</summary>
internal static class PilotHost
{
    public static async Task<int> RunAsync(string configPath, PilotConfig config, CancellationToken cancellationToken)
    {
        // Each child holds pool threads (output pumps, exit waits); on a 2-core container the default minimum of 2 would
        // let a few jobs delay control-plane answers until the pool grows.
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 32), Math.Max(io, 32));
        // The socket first (v3 listens before it starts jobs); Kestrel starts on it while the jobs start.
        ControlListener listener;
        try
        {
            listener = ControlListener.Bind(config.Control);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Net.Sockets.SocketException)
        {
            var message = ex is ControlSocketInUseException
                ? ex.Message
                : $"error listening to socket at {config.Control.SocketPath}: {ex.Message}";
            await Console.Out.WriteLineAsync(PilotCli.LogLine(TimeProvider.System, message)).ConfigureAwait(false);
            return PilotCli.ExitFailure;
        }
        using (listener)
        {
            var builder = ControlPlane.CreateBuilder(listener);
            builder.Services.AddPilotSupervisor(new PilotSupervisorOptions
            {
                ConfigPath = configPath,
                Config = config,
                Version = BuildInfo.Version,
            });
            builder.Services.AddSingleton<TelemetryServer>();
            builder.Services.AddSingleton<ISupervisedComponent>(provider => provider.GetRequiredService<TelemetryServer>());
            builder.Services.AddSingleton<IControlRequestObserver, MetricsControlObserver>();
            await using var app = builder.Build();
            app.MapControlPlane();
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            // The supervisor stops the host when every job has halted or a shutdown completed, and sets the exit code.
            await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
        }
        return Environment.ExitCode;
    }
}
