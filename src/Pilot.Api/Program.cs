using Pilot.Api.Cli;

namespace Pilot.Api;

internal static class Program
{
    public static int Main(string[] args)
    {
        // (the first statement is reserved for the process work's `__exec` shim dispatch)

        // Pilot's own work starts here: flags → config → control plane + supervisor. No synchronization context
        // in a console app, so blocking on the CLI's task here is safe.
        return PilotCli.CreateDefault().RunAsync(args, PilotHost.RunAsync, CancellationToken.None).GetAwaiter().GetResult();
    }
}
