using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Compatibility;

/// <summary>Reference Part A §7 (logging): levels, the three line formats, job and check output, raw output.</summary>
public sealed class LoggingTests
{
    private const int SIGTERM = 15;
    private const string Rfc3339Nano = @"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)";
    private const string Rfc3339 = @"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)";

    /// <summary>A job writing to stdout and stderr (ending with an unterminated line) and a job whose check prints.</summary>
    private static string Config(string logging) => $$"""
        {
          control: { socket: "SOCKET" },
          {{logging}}
          jobs: [
            { name: "app", exec: ["sh", "-c", "echo plain; echo 'hello world' >&2; echo '<b>& \"q\" é'; printf partial"] },
            { name: "checked", exec: "sleep 600", health: { exec: "echo check-out", interval: 1, ttl: 5 } },
            { name: "fails", exec: ["sh", "-c", "exit 1"] },
          ],
        }
        """;

    private static async Task<RunningPilot> RunUntilCheckedAsync(string logging, string checkLine, CancellationToken token)
    {
        var pilot = RunningPilot.Start(Config(logging));
        await pilot.WaitForLineAsync(checkLine, token);
        await pilot.WaitForLineAsync("partial", token);
        pilot.Signal(SIGTERM);
        (await pilot.WaitForExitAsync(token)).ShouldBe(0, pilot.Output);
        return pilot;
    }

    [Fact]
    public async Task DefaultFormat_IsTimeJobPidMessage_AtInfo()
    {
        using var timeout = PilotProcess.Timeout();

        await using var pilot = await RunUntilCheckedAsync("", "check-out", timeout.Token);

        pilot.Lines.ShouldContain(l => System.Text.RegularExpressions.Regex.IsMatch(l, $@"^{Rfc3339Nano} app \d+ plain$"), pilot.Output);
        pilot.Lines.ShouldContain(l => System.Text.RegularExpressions.Regex.IsMatch(l, $@"^{Rfc3339Nano} app \d+ hello world$"), "stderr lines look the same");
        pilot.Lines.ShouldContain(l => System.Text.RegularExpressions.Regex.IsMatch(l, $@"^{Rfc3339Nano} app \d+ partial$"), "the unterminated last line is kept");
        pilot.Lines.ShouldContain(l => System.Text.RegularExpressions.Regex.IsMatch(l, $@"^{Rfc3339Nano} \d+ check-out$"), "check output shows only the pid");
        pilot.Lines.ShouldContain(l => System.Text.RegularExpressions.Regex.IsMatch(l, $@"^{Rfc3339Nano} fails exited with error: exit status 1$"), "Pilot's own lines have no fields");
        pilot.Output.ShouldNotContain("exited without error", customMessage: "a debug line, hidden at the default level INFO");
    }

    [Fact]
    public async Task TextFormat_IsLogrusText_WithSortedFieldsAndATrailingSpace()
    {
        using var timeout = PilotProcess.Timeout();

        await using var pilot = await RunUntilCheckedAsync("logging: { level: 'DEBUG', format: 'TEXT' },", "msg=check-out", timeout.Token);

        string[] expected =
        [
            $@"^time=""{Rfc3339}"" level=info msg=plain job=app pid=\d+ $",
            $@"^time=""{Rfc3339}"" level=info msg=""hello world"" job=app pid=\d+ $",
            $@"^time=""{Rfc3339}"" level=info msg=""<b>& ""q"" é"" job=app pid=\d+ $",
            $@"^time=""{Rfc3339}"" level=info msg=check-out check=check\.checked pid=\d+ $",
            $@"^time=""{Rfc3339}"" level=error msg=""fails exited with error: exit status 1"" $",
            $@"^time=""{Rfc3339}"" level=debug msg=""app exited without error"" $",
        ];
        foreach (var pattern in expected)
        {
            pilot.Lines.ShouldContain(l => System.Text.RegularExpressions.Regex.IsMatch(l, pattern), $"{pattern}\n{pilot.Output}");
        }
    }

    [Fact]
    public async Task JsonFormat_IsLogrusJson_EscapedAsGo()
    {
        using var timeout = PilotProcess.Timeout();

        await using var pilot = await RunUntilCheckedAsync("logging: { format: 'json' },", "\"msg\":\"check-out\"", timeout.Token);

        string[] expected =
        [
            $@"^\{{""job"":""app"",""level"":""info"",""msg"":""plain"",""pid"":\d+,""time"":""{Rfc3339Nano}""\}}$",
            $@"^\{{""job"":""app"",""level"":""info"",""msg"":""\\u003cb\\u003e\\u0026 \\""q\\"" é"",""pid"":\d+,""time"":""{Rfc3339Nano}""\}}$",
            $@"^\{{""check"":""check\.checked"",""level"":""info"",""msg"":""check-out"",""pid"":\d+,""time"":""{Rfc3339Nano}""\}}$",
            $@"^\{{""level"":""error"",""msg"":""fails exited with error: exit status 1"",""time"":""{Rfc3339Nano}""\}}$",
        ];
        foreach (var pattern in expected)
        {
            pilot.Lines.ShouldContain(l => System.Text.RegularExpressions.Regex.IsMatch(l, pattern), $"{pattern}\n{pilot.Output}");
        }
    }

    [Fact]
    public async Task WarnLevel_HidesJobOutput_ButNotErrors()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start(Config("logging: { level: 'Warning' },"));

        await pilot.WaitForLineAsync("fails exited with error: exit status 1", timeout.Token);
        pilot.Signal(SIGTERM);

        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
        pilot.Output.ShouldNotContain("plain");
        pilot.Output.ShouldNotContain("check-out");
    }

    /// <summary>
    /// <c>raw</c> job and check output goes to Pilot's own stdout unchanged, even when the log goes to a file; the
    /// file is appended to.
    /// </summary>
    [Fact]
    public async Task RawOutput_GoesStraightToPilotsStdout_EvenWhenTheLogIsAFile()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start("""
            {
              control: { socket: "SOCKET" },
              logging: { output: "DIR/pilot.log" },
              jobs: [
                { name: "raw", exec: "echo raw-line", logging: { raw: true } },
                { name: "wrapped", exec: "echo wrapped-line" },
                { name: "checked", exec: "sleep 600", health: { exec: "echo raw-check", interval: 1, ttl: 5, logging: { raw: true } } },
              ],
            }
            """, prepareDirectory: directory => File.WriteAllText(Path.Combine(directory, "pilot.log"), "earlier line\n"));
        var log = Path.Combine(pilot.Directory, "pilot.log");

        await pilot.WaitForLineAsync("raw-line", timeout.Token);
        await pilot.WaitForLineAsync("raw-check", timeout.Token);
        while (!File.ReadAllText(log).Contains("wrapped-line", StringComparison.Ordinal))
        {
            await Task.Delay(50, timeout.Token);
        }
        pilot.Signal(SIGTERM);
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);

        pilot.Lines.ShouldContain("raw-line");
        pilot.Lines.ShouldContain("raw-check");
        pilot.Output.ShouldNotContain("wrapped-line");
        var file = File.ReadAllText(log);
        file.ShouldStartWith("earlier line\n");
        file.ShouldNotContain("raw-line");
    }

    [Fact]
    public async Task Output_GoesToStderr_WhenAsked()
    {
        using var timeout = PilotProcess.Timeout();
        using var directory = new TempDirectory();
        var config = directory.File("pilot.json5");
        await File.WriteAllTextAsync(config, $$"""
            { control: { socket: "{{directory.File("pilot.socket")}}" }, logging: { output: "STDERR" }, jobs: [ { name: "app", exec: "echo to-stderr" } ] }
            """, timeout.Token);

        var outcome = await PilotProcess.RunAsync(["-config", config], timeout.Token);

        outcome.ExitCode.ShouldBe(0, outcome.Stdout + outcome.Stderr);
        outcome.Stderr.ShouldContain(" app ");
        outcome.Stderr.ShouldContain("to-stderr");
        outcome.Stdout.ShouldNotContain("to-stderr");
    }
}
