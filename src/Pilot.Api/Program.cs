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

        return 0;
    }
}
