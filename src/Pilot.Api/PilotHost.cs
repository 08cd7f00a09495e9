using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using Pilot.Api.Cli;
using Pilot.Api.Control;
using Pilot.Supervisor.Config;

namespace Pilot.Api;

/// <summary>The run path: the control plane on its socket with the supervisor as a hosted service.</summary>
internal static class PilotHost
{
    public static async Task<int> RunAsync(string configPath, PilotConfig config, CancellationToken cancellationToken)
    {
        var builder = ControlPlane.CreateBuilder(config.Control);
        // wired by the lead: registers ISupervisorControl and the supervisor's hosted service.
        // builder.Services.AddPilotSupervisor(new PilotSupervisorOptions { ConfigPath = configPath, Config = config });
        _ = configPath;
        await using var app = builder.Build();
        app.MapControlPlane();
        try
        {
            await app.StartControlPlaneAsync(config.Control, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Net.Sockets.SocketException)
        {
            var message = ex is ControlSocketInUseException
                ? ex.Message
                : $"error listening to socket at {config.Control.SocketPath}: {ex.Message}";
            await Console.Out.WriteLineAsync(PilotCli.LogLine(TimeProvider.System, message)).ConfigureAwait(false);
            return PilotCli.ExitFailure;
        }
        // wired by the lead: Pilot ends when the supervisor completes (every job halted), with its exit code, e.g.
        //   var code = await supervisor.Completion; await app.StopAsync(); return code;
        // Until then the host runs until it is stopped (SIGTERM/SIGINT through the console lifetime).
        await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
        return Environment.ExitCode;
    }
}
