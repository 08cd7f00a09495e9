using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Cli;

/// <summary>
/// Issue 27, items 2 and 3, with the real binary: <c>pilot graph</c> from a file and from a running Pilot, <c>pilot why</c>,
/// and what each job costs in <c>/v3/status</c>, <c>pilot status</c>, <c>pilot top</c> and Prometheus.
/// </summary>
public sealed partial class GraphAndCostTests
{
    /// <summary>
    /// <c>busy</c> keeps a core busy in a child of its group (two processes: the loop and the sleep leading the group)
    /// for as long as Pilot ($PPID of the job's shell) lives, so a test that ends abruptly leaves no loop spinning;
    /// <c>idle</c> sleeps; <c>later</c> waits for <c>idle</c> to exit; <c>announce</c> is a trap (no health check on idle).
    /// </summary>
    private const string Config = """
        {
          control: { socket: "SOCKET" },
          jobs: [
            { name: "busy", exec: ["sh", "-c", "while kill -0 $PPID 2>/dev/null; do :; done & exec sleep 600"] },
            { name: "idle", exec: ["sleep", "600"] },
            { name: "later", exec: "true", when: { source: "idle", once: "exitSuccess", timeout: "10m" } },
            { name: "announce", exec: "true", when: { source: "idle", once: "healthy" } },
          ],
        }
        """;

    private static Task<PilotProcess.Outcome> Cli(RunningPilot pilot, CancellationToken cancellationToken, params string[] args) =>
        PilotProcess.RunAsync([.. args, "-socket", pilot.SocketPath], cancellationToken);

    private static async Task<RunningPilot> StartAsync(string config, CancellationToken cancellationToken)
    {
        var pilot = RunningPilot.Start(config);
        await pilot.WaitForSocketAsync(cancellationToken);
        return pilot;
    }

    private static async Task<JsonElement> JobAsync(HttpClient http, string name, CancellationToken cancellationToken) =>
        (await http.GetJsonAsync($"/v3/jobs/{name}", cancellationToken)).Body;

    [Fact]
    public async Task Graph_FromTheConfigFile_NeedsNoRunningPilot_AndMarksTraps()
    {
        using var timeout = PilotProcess.Timeout();
        using var directory = new TempDirectory();
        var config = directory.File("app.json5");
        await File.WriteAllTextAsync(config, RunningPilot.Render(Config, directory.Path, directory.File("none.socket")), timeout.Token);

        var dot = await PilotProcess.RunAsync(["graph", "-config", config], timeout.Token);
        var mermaid = await PilotProcess.RunAsync(["graph", "-format", "mermaid", "-config", config], timeout.Token);
        var badFormat = await PilotProcess.RunAsync(["graph", "-format", "png", "-config", config], timeout.Token);

        dot.ExitCode.ShouldBe(0, dot.Output);
        dot.Stdout.ShouldStartWith("digraph pilot {");
        dot.Stdout.ShouldContain("\"idle\" -> \"later\" [label=\"once: exitSuccess\\ntimeout 10m0s\"];");
        dot.Stdout.ShouldContain("\"announce\" [shape=box, style=\"rounded\", color=\"#c62828\"");
        dot.Stdout.ShouldContain("// trap (never-emitted): job announce: waits for \"healthy\" from \"idle\", which never comes: idle has no health check");
        mermaid.ExitCode.ShouldBe(0, mermaid.Output);
        mermaid.Stdout.ShouldStartWith("flowchart LR\n");
        mermaid.Stdout.ShouldContain("-->|\"once: exitSuccess<br/>timeout 10m0s\"|");
        badFormat.ExitCode.ShouldBe(2);
        badFormat.Stderr.ShouldContain("invalid value \"png\" for flag -format: must be 'dot' or 'mermaid'");

        await File.WriteAllTextAsync(config, "{ jobs: [ { name: \"x\", exec: \"true\", when: { interval: \"xx\" } } ] }", timeout.Token);
        var invalid = await PilotProcess.RunAsync(["graph", "-config", config], timeout.Token);
        invalid.ExitCode.ShouldBe(1);
        invalid.Stdout.ShouldBeEmpty();
        invalid.Stderr.ShouldContain("jobs[0].when.interval");
    }

    [Fact]
    public async Task Graph_FromTheRunningPilot_IsTheGraphOfTheConfigInForce()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = await StartAsync(Config, timeout.Token);
        var fromFile = await PilotProcess.RunAsync(["graph", "-config", pilot.ConfigPath], timeout.Token);
        // Edited on disk but not reloaded: the running Pilot still runs the first config.
        pilot.WriteConfig(Config.Replace("once: \"healthy\"", "once: \"exitFailed\"", StringComparison.Ordinal));

        var running = await Cli(pilot, timeout.Token, "graph");
        var runningMermaid = await Cli(pilot, timeout.Token, "graph", "-format", "mermaid");

        running.ExitCode.ShouldBe(0, running.Output);
        running.Stdout.ShouldBe(fromFile.Stdout);
        runningMermaid.Stdout.ShouldContain("%% trap (never-emitted): job announce");
        using var http = pilot.CreateClient();
        var graph = (await http.GetJsonAsync("/v3/graph", timeout.Token)).Body;
        graph.GetProperty("traps").EnumerateArray().Select(t => t.GetProperty("kind").GetString()).ShouldBe(["never-emitted"]);
    }

    [Fact]
    public async Task Why_SaysWhatAJobWaitsFor_WithTheTimeLeftOnItsTimeout()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = await StartAsync(Config, timeout.Token);
        using var http = pilot.CreateClient();
        while ((await JobAsync(http, "idle", timeout.Token)).GetProperty("state").GetString() != "running")
        {
            await Task.Delay(50, timeout.Token);
        }

        var later = await Cli(pilot, timeout.Token, "why", "later");
        var idle = await Cli(pilot, timeout.Token, "why", "idle");
        var announce = await Cli(pilot, timeout.Token, "why", "announce");
        var missing = await Cli(pilot, timeout.Token, "why", "nope");

        later.ExitCode.ShouldBe(0, later.Output);
        later.Stdout.ShouldMatch(@"^later waits for ""exitSuccess"" from idle \(once\); idle is running; gives up in (9m\d+s|10m0s) \(when\.timeout 10m0s\)\n$");
        idle.Stdout.ShouldMatch(@"^idle is running \(pid \d+, up (\d+(\.\d)?s|\d+ms)\); waits for nothing\n$");
        announce.Stdout.ShouldStartWith("announce never starts: waits for \"healthy\" from \"idle\", which never comes");
        missing.ExitCode.ShouldBe(1);
        missing.Stderr.ShouldBe("there is no job named \"nope\"\n");
    }

    [Fact]
    public async Task Status_ShowsTheCpuAndMemoryOfEachJobsProcessGroup()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = await StartAsync(Config, timeout.Token);
        using var http = pilot.CreateClient();
        JsonElement busy;
        // The loop runs in a child of the job's group: its CPU time counts for the job.
        while (!(busy = await JobAsync(http, "busy", timeout.Token)).TryGetProperty("cpuSeconds", out var cpu) || cpu.GetDouble() < 0.3)
        {
            await Task.Delay(100, timeout.Token);
        }
        var idle = await JobAsync(http, "idle", timeout.Token);
        var later = await JobAsync(http, "later", timeout.Token);
        var table = await Cli(pilot, timeout.Token, "status");

        busy.GetProperty("processes").GetInt32().ShouldBe(2);
        busy.GetProperty("memoryBytes").GetInt64().ShouldBeGreaterThan(100_000);
        busy.GetProperty("cpuPercent").GetDouble().ShouldBeGreaterThan(1);
        idle.GetProperty("processes").GetInt32().ShouldBe(1);
        idle.GetProperty("cpuSeconds").GetDouble().ShouldBeLessThan(0.2);
        later.TryGetProperty("cpuSeconds", out _).ShouldBeFalse("a job without a process has no cost fields");
        later.GetProperty("whenTimeoutDue").GetDateTimeOffset().ShouldBeGreaterThan(DateTimeOffset.UtcNow.AddMinutes(8));
        table.ExitCode.ShouldBe(0, table.Output);
        var busyRow = table.Stdout.Split('\n').Single(l => l.StartsWith("busy ", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        double.Parse(busyRow[7], CultureInfo.InvariantCulture).ShouldBeGreaterThan(1);
        busyRow[8].ShouldMatch(@"^\d+(K|\.\dM)$");
    }

    [Fact]
    public async Task Top_PrintsScreens_WithCpuMeasuredOverTheInterval_WhenNotOnATerminal()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = await StartAsync(Config, timeout.Token);
        using var http = pilot.CreateClient();
        while ((await JobAsync(http, "busy", timeout.Token)).TryGetProperty("pid", out _) is false)
        {
            await Task.Delay(50, timeout.Token);
        }

        var top = await Cli(pilot, timeout.Token, "top", "-n", "2", "-d", "0.5");

        top.ExitCode.ShouldBe(0, top.Output);
        top.Stdout.ShouldNotContain("\u001b", customMessage: "no terminal: plain text, no escape codes");
        var screens = top.Stdout.Split("\n\n");
        screens.Length.ShouldBe(2, top.Stdout);
        screens[1].ShouldStartWith("pilot top - ");
        screens[1].ShouldContain(" - 4 jobs, 2 running - CPU ");
        var rows = screens[1].Split('\n').Skip(1).ToList();
        rows[0].Split("  ", StringSplitOptions.RemoveEmptyEntries).Select(c => c.Trim())
            .ShouldBe(["JOB", "STATE", "PID", "PROCS", "CPU%", "MEM", "CPU TIME", "UPTIME"]);
        var busy = rows.Single(r => r.StartsWith("busy ", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        busy[3].ShouldBe("2");
        // A busy loop on a shared 2-core machine: a generous floor that still tells it from an idle job.
        double.Parse(busy[4], CultureInfo.InvariantCulture).ShouldBeGreaterThan(5);
        var idle = rows.Single(r => r.StartsWith("idle ", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        double.Parse(idle[4], CultureInfo.InvariantCulture).ShouldBeLessThan(5);
        rows.Single(r => r.StartsWith("later ", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .ShouldBe(["later", "waiting", "-", "-", "-", "-", "-", "-"]);
    }

    [Fact]
    public async Task Top_OnATerminal_RedrawsInPlace_AndQuitsOnQ()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = await StartAsync(Config, timeout.Token);
        // util-linux script(1) gives top a pseudo-terminal; what is written to its stdin is typed on it.
        var start = new ProcessStartInfo("script", ["-qfec", $"{Checkout.PilotBinary()} top -d 0.2 -socket {pilot.SocketPath}", "/dev/null"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
        };
        using var script = Process.Start(start)!;
        try
        {
            var output = new System.Text.StringBuilder();
            var buffer = new char[4096];
            // Two redraws: the cursor is sent home before each screen.
            while (Regex.Matches(output.ToString(), Regex.Escape("\u001b[H")).Count < 2)
            {
                var read = await script.StandardOutput.ReadAsync(buffer, timeout.Token);
                read.ShouldBeGreaterThan(0, output.ToString());
                output.Append(buffer, 0, read);
            }
            await script.StandardInput.WriteAsync("q");
            await script.StandardInput.FlushAsync(timeout.Token);
            await script.WaitForExitAsync(timeout.Token);

            script.ExitCode.ShouldBe(0);
            output.ToString().ShouldContain("\u001b[?25l", customMessage: "the cursor is hidden while top runs");
            output.ToString().ShouldContain("q quits");
            (output + await script.StandardOutput.ReadToEndAsync(timeout.Token)).ShouldContain("\u001b[?25h", customMessage: "and shown again when it quits");
        }
        finally
        {
            if (!script.HasExited)
            {
                script.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public async Task Metrics_GiveEachJobsCpuAndMemory_ReadAtScrapeTime()
    {
        using var timeout = PilotProcess.Timeout();
        var port = LoopbackPort.Free();
        await using var pilot = await StartAsync(Config.Replace("jobs: [", $"telemetry: {{ port: {port}, interfaces: [\"static:127.0.0.1\"] }},\n  jobs: [",
            StringComparison.Ordinal), timeout.Token);
        await LoopbackPort.WaitUntilListenedOnAsync(port, timeout.Token);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };

        double Value(string text, string series) =>
            double.Parse(text.Split('\n').Single(l => l.StartsWith(series + " ", StringComparison.Ordinal))[(series.Length + 1)..], CultureInfo.InvariantCulture);
        string metrics;
        while (!(metrics = await http.GetStringAsync("metrics", timeout.Token)).Contains("pilot_job_cpu_seconds_total{job=\"busy\"}", StringComparison.Ordinal)
            || Value(metrics, "pilot_job_cpu_seconds_total{job=\"busy\"}") < 0.2)
        {
            await Task.Delay(100, timeout.Token);
        }

        Value(metrics, "pilot_job_memory_bytes{job=\"busy\"}").ShouldBeGreaterThan(100_000);
        Value(metrics, "pilot_job_memory_bytes{job=\"idle\"}").ShouldBeGreaterThan(0);
        Value(metrics, "pilot_job_memory_bytes{job=\"later\"}").ShouldBe(0);
        Value(metrics, "pilot_job_cpu_seconds_total{job=\"idle\"}").ShouldBeLessThan(0.2);
        metrics.ShouldContain("# TYPE pilot_job_cpu_seconds_total counter");
        var next = await http.GetStringAsync("metrics", timeout.Token);
        Value(next, "pilot_job_cpu_seconds_total{job=\"busy\"}").ShouldBeGreaterThanOrEqualTo(Value(metrics, "pilot_job_cpu_seconds_total{job=\"busy\"}"));
    }
}
