using System.Diagnostics;
using Xunit;

namespace Pilot.Api.Tests.Support;

/// <summary>Runs the built <c>pilot</c> apphost (or another program) as a real process to its end.</summary>
internal static class PilotProcess
{
    public sealed record Outcome(int ExitCode, string Stdout, string Stderr)
    {
        public string Output => Stdout + Stderr;
    }

    public static Task<Outcome> RunAsync(IEnumerable<string> args, CancellationToken cancellationToken, IDictionary<string, string>? environment = null) =>
        RunProgramAsync(Checkout.PilotBinary(), args, cancellationToken, environment);

    /// <summary>Runs <paramref name="program"/>; on cancellation its whole process tree is killed.</summary>
    public static async Task<Outcome> RunProgramAsync(
        string program, IEnumerable<string> args, CancellationToken cancellationToken,
        IDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? "",
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

    public static CancellationTokenSource Timeout(TimeSpan? limit = null) => ControlPlaneHost.CreateTimeout(limit);
}
