using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Compatibility;

/// <summary>
/// <c>pilot -validate</c> (the real binary) on a config text. Pilot reports every error at once, one line each
/// (<c>error: &lt;path&gt;: &lt;v3 message&gt; (line N)</c>), so one run checks many of v3's messages.
/// </summary>
internal static class ConfigCheck
{
    public static async Task<PilotProcess.Outcome> ValidateAsync(string config, CancellationToken cancellationToken,
        IDictionary<string, string>? environment = null)
    {
        using var directory = new TempDirectory();
        var path = directory.File("pilot.json5");
        await File.WriteAllTextAsync(path, config, cancellationToken);
        return await PilotProcess.RunAsync(["-validate", "-config", path], cancellationToken, environment);
    }

    /// <summary>Asserts that the config is refused with, among others, an error at <c>path</c> whose message is exactly <c>message</c>.</summary>
    public static void ShouldReport(this PilotProcess.Outcome outcome, string path, string message)
    {
        outcome.ExitCode.ShouldBe(1, outcome.Stdout + outcome.Stderr);
        var prefix = path.Length == 0 ? "error: " : $"error: {path}: ";
        outcome.Stdout.Split('\n').ShouldContain(l => l.StartsWith(prefix + message + " (line ", StringComparison.Ordinal),
            $"expected `{prefix}{message} (line N)` in:\n{outcome.Stdout}");
    }

    /// <summary>Asserts that the config is accepted (warnings allowed).</summary>
    public static void ShouldBeValid(this PilotProcess.Outcome outcome)
    {
        outcome.ExitCode.ShouldBe(0, outcome.Stdout + outcome.Stderr);
        outcome.Stdout.ShouldNotContain("error: ");
    }
}
