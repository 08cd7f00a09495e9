using Pilot.Api.Cli;
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

        // Pilot's own work starts here: flags → config → control plane + supervisor. No synchronization context
        // in a console app, so blocking on the CLI's task here is safe.
        return PilotCli.CreateDefault().RunAsync(args, PilotHost.RunAsync, CancellationToken.None).GetAwaiter().GetResult();
    }
}
