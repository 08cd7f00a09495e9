using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Supervision;

/// <summary>
/// The control socket and the telemetry port are served by a Kestrel that stops after an idle spell and starts again at
/// the next connection (<c>OnDemandKestrel</c>). A sidecar script or a container health check always calls "after
/// idle": each such call must be answered at once, cycle after cycle, and no cycle may log an error (issue 28: from the
/// third cycle on, every call waited 4 s and an <c>EEXIST</c> accept failure was logged).
/// </summary>
public sealed class IdleListenerTests
{
    private const int Cycles = 24;

    /// <summary>Far above a normal answer, far below the 4 s a dead accept loop cost.</summary>
    private static readonly TimeSpan StallBound = TimeSpan.FromSeconds(1);


    private const string Config = """
        {
          control: { socket: "SOCKET" },
          logging: { level: "DEBUG", format: "text" },
          telemetry: { port: 0, interfaces: ["static:127.0.0.1"] },
          jobs: [ { name: "app", exec: ["sleep", "600"] } ],
        }
        """;

    /// <summary>
    /// A CLI call also starts a process and loads the config (slow for a JIT build on a busy machine): it is bounded by
    /// the same binary validating the same config (no request) plus this, still well below the 4 s stall.
    /// </summary>
    private static readonly TimeSpan CliStallBound = TimeSpan.FromSeconds(2);

    private static readonly Dictionary<string, string> ShortIdle = new() { ["PILOT_LISTENER_IDLE"] = "150ms" };

    [Theory]
    [InlineData("soon")]
    [InlineData("0s")]
    [InlineData("-1s")]
    public async Task ABadListenerIdle_FailsStartUp_NamingTheVariable_BeforeAnyJobStarts(string value)
    {
        using var timeout = PilotProcess.Timeout();
        using var directory = new TempDirectory();
        var marker = directory.File("started");
        var config = directory.File("pilot.json5");
        await File.WriteAllTextAsync(config, $$"""
            { control: { socket: "{{directory.File("pilot.sock")}}" }, jobs: [ { name: "app", exec: ["touch", "{{marker}}"] } ] }
            """, timeout.Token);

        var outcome = await PilotProcess.RunAsync(["-config", config], timeout.Token, new Dictionary<string, string> { ["PILOT_LISTENER_IDLE"] = value });

        outcome.ExitCode.ShouldBe(1, outcome.Output);
        outcome.Output.ShouldContain($"PILOT_LISTENER_IDLE: \"{value}\" is not a positive duration");
        File.Exists(marker).ShouldBeFalse();
        File.Exists(directory.File("pilot.sock")).ShouldBeFalse();
    }

    [Fact]
    public async Task ControlSocket_AnswersAtOnceAfterEveryIdleCycle_AndLogsNoError()
    {
        using var timeout = PilotProcess.Timeout(TimeSpan.FromMinutes(4));
        await using var pilot = RunningPilot.Start(Config, environment: ShortIdle);
        await pilot.WaitForSocketAsync(timeout.Token);

        for (var cycle = 1; cycle <= Cycles; cycle++)
        {
            await pilot.WaitForLineAsync("control: idle, server stopped until the next client", timeout.Token, occurrences: cycle);
            var watch = Stopwatch.StartNew();
            switch (cycle % 3)
            {
                case 0:
                    var startup = await TimeCliAsync(["-config", pilot.ConfigPath, "-validate"], timeout.Token);
                    await pilot.WaitForLineAsync("control: idle, server stopped until the next client", timeout.Token, occurrences: cycle);
                    var putenv = await TimeCliAsync(["-config", pilot.ConfigPath, "-putenv", $"CYCLE={cycle}"], timeout.Token);
                    putenv.ShouldBeLessThan(startup + CliStallBound, $"cycle {cycle}: pilot -putenv (its start-up alone: {startup})");
                    break;
                case 1:
                    (await RawRequestAsync(new UnixDomainSocketEndPoint(pilot.SocketPath), "GET /v3/ping", timeout.Token)).ShouldStartWith("HTTP/1.1 200");
                    watch.Elapsed.ShouldBeLessThan(StallBound, $"cycle {cycle}: raw GET /v3/ping");
                    break;
                default:
                    var baseline = await TimeCliAsync(["-config", pilot.ConfigPath, "-validate"], timeout.Token);
                    await pilot.WaitForLineAsync("control: idle, server stopped until the next client", timeout.Token, occurrences: cycle);
                    var ping = await TimeCliAsync(["-config", pilot.ConfigPath, "-ping"], timeout.Token);
                    ping.ShouldBeLessThan(baseline + CliStallBound, $"cycle {cycle}: pilot -ping (its start-up alone: {baseline})");
                    break;
            }
        }
        await pilot.WaitForLineAsync("control: idle, server stopped until the next client", timeout.Token, occurrences: Cycles + 1);

        NoErrorOrWarning(pilot);
    }

    [Fact]
    public async Task TelemetryPort_AnswersAtOnceAfterEveryIdleCycle_AndLogsNoError()
    {
        using var timeout = PilotProcess.Timeout(TimeSpan.FromMinutes(4));
        await using var pilot = RunningPilot.Start(Config, environment: ShortIdle);
        var serving = await pilot.WaitForLineAsync("telemetry: serving at ", timeout.Token);
        var endpoint = IPEndPoint.Parse(serving[(serving.IndexOf("serving at ", StringComparison.Ordinal) + "serving at ".Length)..].Trim().TrimEnd('"'));

        for (var cycle = 1; cycle <= Cycles; cycle++)
        {
            var watch = Stopwatch.StartNew();
            var answer = await RawRequestAsync(endpoint, cycle % 2 == 0 ? "GET /metrics" : "GET /status", timeout.Token);
            answer.ShouldStartWith("HTTP/1.1 200");
            watch.Elapsed.ShouldBeLessThan(StallBound, $"cycle {cycle}");
            await pilot.WaitForLineAsync("telemetry: idle, server stopped until the next client", timeout.Token, occurrences: cycle);
        }

        NoErrorOrWarning(pilot);
    }

    /// <summary>How long a <c>pilot</c> client call takes, from start to its (successful) exit.</summary>
    private static async Task<TimeSpan> TimeCliAsync(string[] args, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        var outcome = await PilotProcess.RunAsync(args, cancellationToken);
        outcome.ExitCode.ShouldBe(0, outcome.Output);
        return watch.Elapsed;
    }

    /// <summary>One HTTP/1.1 request on a new connection that the server closes after answering; the whole answer.</summary>
    private static async Task<string> RawRequestAsync(EndPoint endpoint, string requestLine, CancellationToken cancellationToken)
    {
        using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, endpoint is IPEndPoint ? ProtocolType.Tcp : ProtocolType.Unspecified);
        await socket.ConnectAsync(endpoint, cancellationToken);
        await socket.SendAsync(Encoding.ASCII.GetBytes($"{requestLine} HTTP/1.1\r\nHost: control\r\nConnection: close\r\n\r\n"), cancellationToken);
        var answer = new MemoryStream();
        var buffer = new byte[8192];
        int read;
        while ((read = await socket.ReceiveAsync(buffer, cancellationToken)) > 0)
        {
            answer.Write(buffer, 0, read);
        }
        return Encoding.UTF8.GetString(answer.ToArray());
    }

    private static void NoErrorOrWarning(RunningPilot pilot)
    {
        var bad = pilot.Lines.Where(line => line.Contains("level=error", StringComparison.Ordinal) || line.Contains("level=warn", StringComparison.Ordinal)).ToList();
        bad.ShouldBeEmpty(pilot.Output);
    }
}
