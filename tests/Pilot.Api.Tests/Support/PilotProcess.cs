using System.Diagnostics;
using Xunit;

namespace Pilot.Api.Tests.Support;

/// <summary>Runs the built <c>pilot</c> apphost as a real process.</summary>
internal static class PilotProcess
{
    public sealed record Outcome(int ExitCode, string Stdout, string Stderr);

    /// <summary><c>$PILOT_BIN</c>, else the apphost copied beside the tests, else <c>src/Pilot.Api/bin/&lt;cfg&gt;/net10.0/pilot</c>.</summary>
    public static string Locate()
    {
        if (Environment.GetEnvironmentVariable("PILOT_BIN") is { Length: > 0 } fromEnvironment)
        {
            return fromEnvironment;
        }
        var beside = Path.Combine(AppContext.BaseDirectory, "pilot");
        if (File.Exists(beside))
        {
            return beside;
        }
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        return Path.Combine(Control.OpenApiDocumentTests.RepositoryRoot(), "src/Pilot.Api/bin", configuration, "net10.0/pilot");
    }

    public static async Task<Outcome> RunAsync(IEnumerable<string> args, CancellationToken cancellationToken, IDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(Locate())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment.Remove("CONTAINERPILOT");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return new Outcome(process.ExitCode, await stdout, await stderr);
    }

    public static CancellationTokenSource Timeout() => ControlPlaneHost.CreateTimeout();
}
