using System.Globalization;
using System.Net;
using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Compatibility;

/// <summary>Reference Part A §4 (lifecycle): start-up, signals, shutdown, exit codes.</summary>
public sealed class LifecycleTests
{
    private const int SIGHUP = 1, SIGINT = 2, SIGUSR1 = 10, SIGTERM = 15;

    /// <summary>
    /// SIGINT shuts down as SIGTERM does; the control socket keeps answering while jobs stop and is removed at the
    /// end; <c>CONTAINERPILOT_PID</c> is Pilot's pid in every job's environment.
    /// </summary>
    [Fact]
    public async Task Sigint_ShutsDownLikeSigterm_WhileTheControlSocketStillAnswers()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start("""
            {
              control: { socket: "SOCKET" },
              jobs: [
                { name: "app", exec: ["sh", "-c", "echo pid-seen=$CONTAINERPILOT_PID; exec sleep 600"] },
                { name: "pre-stop", exec: ["sh", "-c", "while ! test -e DIR/go; do sleep 0.1; done; echo pre-stop-done"],
                  when: { source: "app", once: "stopping" } },
              ],
            }
            """);
        var pidSeen = await pilot.WaitForLineAsync("pid-seen=", timeout.Token);
        await pilot.WaitForSocketAsync(timeout.Token);

        pilot.Signal(SIGINT);
        await pilot.WaitForLineAsync("shutting down", timeout.Token);
        using (var client = pilot.CreateClient())
        {
            (await client.GetAsync("/v3/ping", timeout.Token)).StatusCode.ShouldBe(HttpStatusCode.OK, "the control server runs until every job is complete");
        }
        File.WriteAllText(Path.Combine(pilot.Directory, "go"), "");

        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
        pidSeen.ShouldEndWith("pid-seen=" + pilot.Pid.ToString(CultureInfo.InvariantCulture));
        pilot.Output.ShouldContain("pre-stop-done");
        File.Exists(pilot.SocketPath).ShouldBeFalse();
    }

    /// <summary>
    /// SIGUSR1 never reaches the jobs: with output on stdout it is ignored; with a log file it reopens the file, so a
    /// rotated-away file is replaced by a new one.
    /// </summary>
    [Fact]
    public async Task Sigusr1_IsNotForwardedToJobs_AndReopensALogFile()
    {
        using var timeout = PilotProcess.Timeout();
        const string Config = """
            {
              control: { socket: "SOCKET" },
              OUTPUT
              jobs: [
                { name: "app", exec: ["sh", "-c", "echo app-up; exec sleep 600"] },
                { name: "marker", exec: "echo after-usr1", when: { source: "SIGHUP" } },
              ],
            }
            """;
        await using var toStdout = RunningPilot.Start(Config.Replace("OUTPUT", "", StringComparison.Ordinal));
        await using var toFile = RunningPilot.Start(Config.Replace("OUTPUT", "logging: { output: \"DIR/pilot.log\" },", StringComparison.Ordinal));
        var logFile = Path.Combine(toFile.Directory, "pilot.log");
        await toStdout.WaitForLineAsync("app-up", timeout.Token);
        await WaitForFileLineAsync(logFile, "app-up", timeout.Token);
        File.Move(logFile, logFile + ".1");

        toStdout.Signal(SIGUSR1);
        toFile.Signal(SIGUSR1);
        toStdout.Signal(SIGHUP);
        toFile.Signal(SIGHUP);

        await toStdout.WaitForLineAsync("after-usr1", timeout.Token);
        await WaitForFileLineAsync(logFile, "after-usr1", timeout.Token);
        toStdout.Output.ShouldNotContain("app exited");
        File.ReadAllText(logFile + ".1").ShouldNotContain("app exited");
        toStdout.Signal(SIGTERM);
        toFile.Signal(SIGTERM);
        (await toStdout.WaitForExitAsync(timeout.Token)).ShouldBe(0, toStdout.Output);
        (await toFile.WaitForExitAsync(timeout.Token)).ShouldBe(0, toFile.Output);
    }

    [Fact]
    public async Task ControlSocket_ThatCannotBeBound_IsFatal_WithV3sMessage()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start("""
            { control: { socket: "DIR/missing-dir/pilot.socket" }, jobs: [ { name: "app", exec: "sleep 600" } ] }
            """);

        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(1, pilot.Output);
        pilot.Output.ShouldContain($"error listening to socket at {pilot.Directory}/missing-dir/pilot.socket: ");
    }

    /// <summary>v3 retries the telemetry listener 10 times, 1 s apart, then stops with a fatal line and exit 1.</summary>
    [Fact]
    public async Task TelemetryListener_ThatCannotBind_IsFatal_WithV3sMessage()
    {
        using var timeout = PilotProcess.Timeout();
        using var taken = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        await using var pilot = RunningPilot.Start($$"""
            {
              control: { socket: "SOCKET" },
              telemetry: { port: {{port}}, interfaces: ["static:127.0.0.1"] },
              jobs: [ { name: "app", exec: "sleep 600" } ],
            }
            """);

        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(1, pilot.Output);
        pilot.Output.ShouldContain($"error listening to socket at 127.0.0.1:{port}: ");
        pilot.Output.ShouldNotContain("Unhandled exception");
    }

    /// <summary>Pilot exits when every job has halted, also when there are none (v3 never exits then, not even on SIGTERM).</summary>
    [Fact]
    public async Task Pilot_ExitsAtOnceWithZero_WhenThereAreNoJobs()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start("""{ control: { socket: "SOCKET" }, jobs: [] }""");

        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
    }

    private static async Task WaitForFileLineAsync(string path, string text, CancellationToken cancellationToken)
    {
        while (!File.Exists(path) || !File.ReadAllText(path).Contains(text, StringComparison.Ordinal))
        {
            await Task.Delay(50, cancellationToken);
        }
    }
}
