using Pilot.Api.Cli;
using Pilot.Supervisor.Hosting;
using Pilot.Supervisor.Processes;

namespace Pilot.Api;

internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        // Must stay first: `pilot __exec CMD...` is the spawn shim for every child (docs/child-exec.md); it never returns.
        if (ExecShim.TryRun(args))
        {
            return ExecShim.CannotExecuteExitCode;
        }

        // Next, Pilot's signals: from here on a SIGTERM is kept until the supervisor handles it (an orderly shutdown),
        // however early it comes. A client verb gives them back (SignalRelay.Release).
        using var signals = new SignalRelay();

        // Pilot's own work starts here: flags → config → control plane + supervisor.
        return await PilotCli.CreateDefault()
            .RunAsync(args, (path, config, devListener, ct) => PilotHost.RunAsync(path, config, signals, devListener, ct), CancellationToken.None, signals.Release)
            .ConfigureAwait(false);
    }
}
