using System.Diagnostics;
using Shouldly;

namespace Pilot.Clients.Tests.Support;

/// <summary>The TypeScript client's place in the checkout and a bounded way to run its tools as real processes.</summary>
internal static class Repository
{
    public sealed record Outcome(int ExitCode, string Stdout, string Stderr)
    {
        public string Output => Stdout + Stderr;
    }

    public static string TypeScriptClient => Path.Combine(Checkout.Root, "clients/typescript");

    /// <summary>Fails with a useful message when <c>npm ci</c> has not been run for the TypeScript client.</summary>
    public static void RequireNodeModules() =>
        Directory.Exists(Path.Combine(TypeScriptClient, "node_modules")).ShouldBeTrue(
            "clients/typescript/node_modules is missing: run `npm ci` in clients/typescript (./scripts/test does it)");

    /// <summary>Runs <paramref name="program"/> to its end; on cancellation the whole process tree is killed.</summary>
    public static async Task<Outcome> RunAsync(
        string program, IEnumerable<string> args, string workingDirectory, CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish in time");
        }
        return new Outcome(process.ExitCode, await stdout, await stderr);
    }

}
