using System.Text.Json;
using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Supervision;

/// <summary>
/// <c>health.notify</c> with the real <c>pilot</c> binary and real programs that speak systemd's notify protocol:
/// Debian's <c>systemd-notify</c>, and a small Perl sender of this test's own (Perl is in every Debian). Readiness and
/// the watchdog are seen through the <c>healthy</c>/<c>unhealthy</c> events other jobs react to, as for a check; what
/// the socket refused, through <c>/v3/status</c> after Pilot's debug line for the last datagram.
/// </summary>
public sealed class NotifyTests
{
    private const int SIGTERM = 15;

    /// <summary>
    /// Sends each argument as one datagram to <c>$NOTIFY_TO</c> or <c>$NOTIFY_SOCKET</c>, after Perl's string escapes
    /// (<c>\n</c>, <c>\x00</c>); <c>REPEAT:N:TEXT</c> sends TEXT N times over in one datagram, <c>pause:S</c> waits S
    /// seconds between two. After <c>--then</c>, the rest is exec'd: the sender stays alive under the same pid, as a
    /// daemon that says READY=1 does (a sender gone before Pilot reads its datagram cannot be told apart from a
    /// stranger; systemd-notify waits for that with BARRIER=1).
    /// </summary>
    private const string Sender = """
        use strict; use Socket;
        my $path = $ENV{NOTIFY_TO} // $ENV{NOTIFY_SOCKET} // die "no NOTIFY_SOCKET\n";
        socket(my $s, AF_UNIX, SOCK_DGRAM, 0) or die "socket: $!\n";
        my $to = pack_sockaddr_un($path);
        while (defined(my $arg = shift @ARGV)) {
            last if $arg eq "--then";
            if ($arg =~ /^pause:([\d.]+)$/) { select(undef, undef, undef, $1); next; }
            my $datagram = $arg =~ /^REPEAT:(\d+):(.*)$/s ? $2 x $1 : eval qq{"$arg"};
            defined(send($s, $datagram, 0, $to)) or die "send: $!\n";
        }
        exec(@ARGV) or die "exec: $!\n" if @ARGV;
        """;

    private static RunningPilot Start(string jobs, IEnumerable<string>? wrapper = null) => RunningPilot.Start($$"""
        {
          control: { socket: "SOCKET" },
          logging: { level: "DEBUG" },
          jobs: [ {{jobs}} ],
        }
        """, wrapper, prepareDirectory: directory => File.WriteAllText(Path.Combine(directory, "notify.pl"), Sender));

    private static async Task<JsonElement> JobAsync(RunningPilot pilot, string job, CancellationToken cancellationToken)
    {
        using var client = pilot.CreateClient();
        using var status = JsonDocument.Parse(await client.GetStringAsync("/v3/status", cancellationToken));
        return status.RootElement.GetProperty("jobs").EnumerateArray().Single(j => j.GetProperty("name").GetString() == job).Clone();
    }

    [Fact]
    public async Task SystemdNotify_MakesTheJobHealthy_AndItsStatusShows()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = Start("""
            {
              name: "app", health: { notify: true },
              exec: ["sh", "-c", "echo before-ready; systemd-notify --ready --status='serving requests' && echo systemd-notify-done; exec sleep 600"],
            },
            { name: "on-healthy", exec: "echo app-is-healthy", when: { source: "app", once: "healthy" } },
            """);

        await pilot.WaitForLineAsync("app-is-healthy", timeout.Token);
        // systemd-notify waits (sd_notify_barrier) until Pilot has handled its message, then exits 0.
        await pilot.WaitForLineAsync("systemd-notify-done", timeout.Token);
        var app = await JobAsync(pilot, "app", timeout.Token);
        app.GetProperty("health").GetString().ShouldBe("healthy");
        var notify = app.GetProperty("notify");
        notify.GetProperty("ready").GetBoolean().ShouldBeTrue();
        notify.GetProperty("status").GetString().ShouldBe("serving requests");
        notify.GetProperty("socket").GetString().ShouldNotBeNullOrEmpty();
        notify.GetProperty("foreign").GetInt64().ShouldBe(0);
        // The socket is the job's alone: 0600 in a private 0700 directory.
        var socket = notify.GetProperty("socket").GetString()!;
        File.GetUnixFileMode(socket).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.GetUnixFileMode(Path.GetDirectoryName(socket)!).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var status = await PilotProcess.RunAsync(["status", "-socket", pilot.SocketPath], timeout.Token);
        status.ExitCode.ShouldBe(0, status.Output);
        status.Stdout.ShouldContain("NOTIFY");
        status.Stdout.ShouldMatch(@"(?m)^app\s+yes\s+-\s+0\s+serving requests\s*$");

        pilot.Signal(SIGTERM);
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
        Directory.Exists(Path.GetDirectoryName(socket)).ShouldBeFalse("the socket's directory goes with the job");
    }

    /// <summary>As PID 1 of its own pid namespace (a container's init): pids and /proc are the namespace's.</summary>
    [Fact]
    public async Task SystemdNotify_FromAChild_AsPid1()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = Start("""
            { name: "app", health: { notify: true }, exec: ["sh", "-c", "systemd-notify --ready --status=pid-$$ && while [ ! -e DIR/done ]; do sleep 0.1; done"] },
            { name: "on-healthy", exec: "echo app-is-healthy", when: { source: "app", once: "healthy" } },
            """, wrapper: ["unshare", "--fork", "--pid", "--mount-proc"]);

        await pilot.WaitForLineAsync("app-is-healthy", timeout.Token);
        var app = await JobAsync(pilot, "app", timeout.Token);
        app.GetProperty("notify").GetProperty("status").GetString().ShouldBe($"pid-{app.GetProperty("pid").GetInt32()}");

        // The job ends, so Pilot does (a signal would reach unshare, not Pilot).
        await File.WriteAllTextAsync(Path.Combine(pilot.Directory, "done"), "", timeout.Token);
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
    }

    [Fact]
    public async Task ChildOfTheJob_IsHeard_AndAMissedWatchdogMakesTheJobUnhealthy()
    {
        using var timeout = PilotProcess.Timeout();
        // A descendant that left the process group (setsid) sets STATUS=; a child (perl, forked by sh) says READY=1,
        // then three WATCHDOG=1 within the ttl, then none.
        await using var pilot = Start("""
            {
              name: "app", health: { notify: true, ttl: 1 },
              exec: ["sh", "-c", "setsid perl DIR/notify.pl 'STATUS=from a new session' --then sleep 600 & perl DIR/notify.pl 'READY=1\\nSTATUS=warming up' pause:0.5 WATCHDOG=1 pause:0.2 WATCHDOG=1 pause:0.2 WATCHDOG=1 --then sh -c 'echo pings-stopped; exec sleep 600'"],
            },
            { name: "on-healthy", exec: "echo app-is-healthy", when: { source: "app", each: "healthy" } },
            { name: "on-unhealthy", exec: "echo app-is-unhealthy", when: { source: "app", each: "unhealthy" } },
            """);

        await pilot.WaitForLineAsync("app-is-healthy", timeout.Token);
        await pilot.WaitForLineAsync("pings-stopped", timeout.Token);
        await pilot.WaitForLineAsync("app-is-unhealthy", timeout.Token);
        pilot.Output.ShouldContain("job app: notify: no WATCHDOG=1 for 1s (health.ttl): unhealthy");
        var app = await JobAsync(pilot, "app", timeout.Token);
        app.GetProperty("health").GetString().ShouldBe("unhealthy");
        var notify = app.GetProperty("notify");
        notify.GetProperty("ready").GetBoolean().ShouldBeTrue();
        notify.GetProperty("watchdogMissed").GetBoolean().ShouldBeTrue();
        notify.GetProperty("accepted").GetInt64().ShouldBe(5);
        pilot.Output.ShouldContain("job app: notify: STATUS=from a new session");
        notify.GetProperty("foreign").GetInt64().ShouldBe(0);

        pilot.Signal(SIGTERM);
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
    }

    [Fact]
    public async Task OversizedMalformedAndForeignDatagrams_AreIgnoredAndCounted_AndTheJobNeverBecomesHealthy()
    {
        using var timeout = PilotProcess.Timeout();
        // Oversized (5000 bytes), then malformed: not UTF-8, a NUL byte, a line without '=', a lower-case key, empty.
        await using var pilot = Start("""
            {
              name: "app", health: { notify: true },
              exec: ["sh", "-c", "exec perl DIR/notify.pl REPEAT:5000:x '\\xff\\xfeREADY=1' 'READY=1\\x00' 'READY' 'ready=1' '' 'STATUS=after the bad ones' --then sleep 600"],
            },
            { name: "waiter", exec: "echo app-became-healthy", when: { source: "app", once: "healthy", timeout: "2s" } },
            { name: "gave-up", exec: "echo waiter-gave-up", when: { source: "waiter", once: "timerExpired" } },
            """);

        await pilot.WaitForLineAsync("job app: notify: STATUS=after the bad ones", timeout.Token);
        var socket = (await JobAsync(pilot, "app", timeout.Token)).GetProperty("notify").GetProperty("socket").GetString()!;
        // A process outside the job (this test's own perl, alive while Pilot reads it) says READY=1: not the job's word.
        var start = new System.Diagnostics.ProcessStartInfo("perl") { ArgumentList = { Path.Combine(pilot.Directory, "notify.pl"), "READY=1", "--then", "sleep", "600" } };
        start.Environment["NOTIFY_TO"] = socket;
        using (var outside = System.Diagnostics.Process.Start(start)!)
        {
            try
            {
                (await pilot.WaitForLineAsync("not a process of the job's run", timeout.Token)).ShouldContain($"from pid {outside.Id} (");
            }
            finally
            {
                outside.Kill();
            }
        }
        await pilot.WaitForLineAsync("waiter-gave-up", timeout.Token);

        var app = await JobAsync(pilot, "app", timeout.Token);
        app.GetProperty("health").GetString().ShouldBe("unknown");
        app.GetProperty("state").GetString().ShouldBe("running");
        var notify = app.GetProperty("notify");
        notify.GetProperty("ready").GetBoolean().ShouldBeFalse();
        notify.GetProperty("oversized").GetInt64().ShouldBe(1);
        notify.GetProperty("malformed").GetInt64().ShouldBe(5);
        notify.GetProperty("foreign").GetInt64().ShouldBe(1);
        notify.GetProperty("accepted").GetInt64().ShouldBe(1);
        pilot.Lines.ShouldNotContain(l => l.EndsWith(" app-became-healthy", StringComparison.Ordinal), pilot.Output);

        pilot.Signal(SIGTERM);
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
    }

    [Fact]
    public async Task WithACheck_TheChecksWaitForReady_ThenDecide()
    {
        using var timeout = PilotProcess.Timeout();
        // The job says READY=1 only once told to (a file the test writes); its check would pass from the start.
        await using var pilot = Start("""
            {
              name: "app", health: { notify: true, exec: "echo check-ran", interval: 1, ttl: 5 },
              exec: ["sh", "-c", "echo waiting-for-go; while [ ! -e DIR/go ]; do sleep 0.1; done; exec perl DIR/notify.pl READY=1 --then sleep 600"],
            },
            { name: "on-healthy", exec: "echo app-is-healthy", when: { source: "app", once: "healthy" } },
            """);

        await pilot.WaitForLineAsync("waiting-for-go", timeout.Token);
        await pilot.WaitForLineAsync("check.app waits for READY=1", timeout.Token, occurrences: 2);
        var before = await JobAsync(pilot, "app", timeout.Token);
        before.GetProperty("health").GetString().ShouldBe("unknown");
        await File.WriteAllTextAsync(Path.Combine(pilot.Directory, "go"), "", timeout.Token);

        await pilot.WaitForLineAsync("app-is-healthy", timeout.Token);
        var lines = pilot.Lines.ToList();
        var ready = lines.FindIndex(l => l.Contains("job app: notify: READY=1", StringComparison.Ordinal));
        var firstCheck = lines.FindIndex(l => l.EndsWith(" check-ran", StringComparison.Ordinal));
        ready.ShouldBeGreaterThanOrEqualTo(0, pilot.Output);
        firstCheck.ShouldBeGreaterThan(ready, "no check runs before READY=1:\n" + pilot.Output);

        pilot.Signal(SIGTERM);
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
    }

    [Fact]
    public async Task RestartBackoff_StartsOver_OnceARunIsHealthy()
    {
        using var timeout = PilotProcess.Timeout();
        // Runs 1-3 fail at once (100ms, 400ms, 1.6s); run 4 says READY=1 (systemd-notify waits until Pilot has it),
        // then fails too: its restart waits 100ms again, not 6.4s.
        await using var pilot = Start("""
            {
              name: "app", health: { notify: true }, restarts: 4,
              restartBackoff: { initial: "100ms", factor: 4, max: "10s", resetAfter: "1h" },
              exec: ["sh", "-c", "n=$(($(cat DIR/runs 2>/dev/null || echo 0) + 1)); echo $n > DIR/runs; echo run-$n; if [ $n -eq 4 ]; then systemd-notify --ready; fi; exit 1"],
            },
            """);

        await pilot.WaitForLineAsync("run-5", timeout.Token);
        pilot.Lines.Where(l => l.Contains("job app: restarting in", StringComparison.Ordinal)).Select(l => l[(l.LastIndexOf(' ') + 1)..])
            .ShouldBe(["100ms", "400ms", "1.6s", "100ms"]);
        pilot.Output.ShouldContain("event: {StatusHealthy app}");
    }
}
