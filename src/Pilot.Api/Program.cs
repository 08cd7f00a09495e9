using Pilot.Api.Cli;

namespace Pilot.Api;

internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        // (the first statement is reserved for the process work's `__exec` shim dispatch)

        // Pilot's own work starts here: flags → config → control plane + supervisor.
        return await PilotCli.CreateDefault().RunAsync(args, PilotHost.RunAsync, CancellationToken.None).ConfigureAwait(false);
    }
}
