using Pilot.Api.Cli;
using Pilot.Supervisor.Hosting;
using Pilot.Supervisor.Processes;

namespace Pilot.Api;

internal static class Program
{
    public static int Main(string[] args)
    {
        // Must stay first: `pilot __exec CMD...` is the spawn shim for every child (DESIGN §2.2); it never returns.
        if (ExecShim.TryRun(args))
        {
            return ExecShim.CannotExecuteExitCode;
        }

        // Next, Pilot's signals: from here on a SIGTERM is kept until the supervisor handles it (an orderly shutdown),
        // however early it comes. A client verb gives them back (SignalRelay.Release).
        using var signals = new SignalRelay();

        // Pilot's own work starts here: flags → config → control plane + supervisor. No synchronization context
        // in a console app, so blocking on the CLI's task here is safe.
        return PilotCli.CreateDefault()
            .RunAsync(args, (path, config, devListener, ct) => PilotHost.RunAsync(path, config, signals, devListener, ct), CancellationToken.None, signals.Release)
            .GetAwaiter().GetResult();
    }
}
