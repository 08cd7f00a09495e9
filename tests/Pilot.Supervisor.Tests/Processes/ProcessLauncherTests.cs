using System.Diagnostics;
using System.Globalization;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Processes;
using Shouldly;
using Xunit;
using static Pilot.Supervisor.Tests.Processes.ProcessTestSupport;

namespace Pilot.Supervisor.Tests.Processes;

public sealed class ProcessLauncherTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(255)]
    public async Task Start_ReportsExactExitCode_WhenChildExits(int code)
    {
        var run = Launcher().Start(Request($"exit {code}", null));

        var exit = await run.Exited.Bounded();

        exit.ShouldBe(new ProcessExit(code, null));
        exit.Success.ShouldBe(code == 0);
        exit.ToString().ShouldBe($"exit status {code}");
    }

    [Fact]
    public async Task Start_ReportsSignal_WhenGroupIsSignalled()
    {
        var output = new OutputCollector();
        var run = Launcher().Start(Request("echo ready; exec sleep 300", output.Add));
        await output.WaitFor("ready").Bounded();

        run.SignalGroup(SignalNames.SIGTERM);
        var exit = await run.Exited.Bounded();

        exit.Signal.ShouldBe(SignalNames.SIGTERM);
        exit.Success.ShouldBeFalse();
        exit.ToString().ShouldBe("signal: terminated");
    }

    [Fact]
    public async Task Start_ReportsExitStatus_WhenChildExitsWith128PlusSignalItself()
    {
        // The runtime cannot tell `exit 137` from SIGKILL; Pilot names a signal only when it sent it.
        var run = Launcher().Start(Request("exit 137", null));

        var exit = await run.Exited.Bounded();

        exit.ShouldBe(new ProcessExit(137, null));
        exit.ToString().ShouldBe("exit status 137");
    }

    [Fact]
    public void Start_ThrowsGoLikeError_WhenProgramIsNotOnPath()
    {
        var launcher = Launcher();

        var error = Should.Throw<ProcessStartException>(() =>
            launcher.Start(new ProcessStartRequest("job", new CommandSpec("pilot-no-such-program", []), null)));

        error.Message.ShouldBe("exec: \"pilot-no-such-program\": executable file not found in $PATH");
    }

    [Theory]
    [InlineData("/etc/passwd", "fork/exec /etc/passwd: permission denied")]
    [InlineData("/", "fork/exec /: permission denied")]
    [InlineData("/no/such/program", "fork/exec /no/such/program: no such file or directory")]
    public void Start_ThrowsGoLikeError_WhenPathCannotBeExecuted(string program, string message)
    {
        var launcher = Launcher();

        var error = Should.Throw<ProcessStartException>(() =>
            launcher.Start(new ProcessStartRequest("job", new CommandSpec(program, []), null)));

        error.Message.ShouldBe(message);
    }

    [Fact]
    public void Start_LooksUpProgramInExtraEnvironmentPath_WhenPathIsOverridden()
    {
        var request = new ProcessStartRequest("job", new CommandSpec("sh", []), null)
        {
            ExtraEnvironment = new Dictionary<string, string> { ["PATH"] = "/nonexistent" },
        };

        Should.Throw<ProcessStartException>(() => Launcher().Start(request))
            .Message.ShouldBe("exec: \"sh\": executable file not found in $PATH");
    }

    [Fact]
    public async Task Start_PassesArgumentsVerbatim_WhenTheyHoldSpacesAndQuotes()
    {
        var output = new OutputCollector();
        var command = new CommandSpec("printf", ["%s|", "a b", "\"q\"", "", "$HOME"]);

        var exit = await Launcher().Start(new ProcessStartRequest("job", command, output.Add)).Exited.Bounded();

        exit.Success.ShouldBeTrue();
        output.Lines.Select(l => l.Text).ShouldBe(["a b|\"q\"||$HOME|"]);
    }

    [Fact]
    public async Task Start_AddsExtraEnvironment_OnTopOfCurrentEnvironment()
    {
        var output = new OutputCollector();
        var request = Request("echo \"$PILOT_TEST_EXTRA\"; echo \"$PATH\"", output.Add) with
        {
            ExtraEnvironment = new Dictionary<string, string> { ["PILOT_TEST_EXTRA"] = "extra value" },
        };

        (await Launcher().Start(request).Exited.Bounded()).Success.ShouldBeTrue();

        output.Lines.Select(l => l.Text).ShouldBe(["extra value", Environment.GetEnvironmentVariable("PATH")!]);
    }

    [Fact]
    public async Task Start_PutsChildInOwnGroupWithDefaultSignals_WhenStarted()
    {
        var output = new OutputCollector();
        // Field 5 of /proc/PID/stat is the process group; SigIgn/SigBlk must be empty (the runtime ignores SIGPIPE). The
        // masks are read by the program the shim exec'd (grep after the shell's exec): a shell blocks every signal while
        // it forks and waits for a child, so reading its own status from a child would race with that.
        var run = Launcher().Start(Request("cut -d' ' -f5 /proc/$$/stat; exec grep -E '^Sig(Ign|Blk)' /proc/self/status", output.Add));

        (await run.Exited.Bounded()).Success.ShouldBeTrue();

        output.Lines.Select(l => l.Text).ShouldBe(
            [run.Pid.ToString(CultureInfo.InvariantCulture), "SigBlk:\t0000000000000000", "SigIgn:\t0000000000000000"]);
    }

    [Fact]
    public async Task Start_GivesEmptyStdin_WhenStarted()
    {
        var output = new OutputCollector();

        (await Launcher().Start(Request("cat; echo done", output.Add)).Exited.Bounded()).Success.ShouldBeTrue();

        output.Lines.Select(l => l.Text).ShouldBe(["done"]);
    }

    [Fact]
    public async Task Start_DeliversStdoutAndStderrLines_WithNameAndPid()
    {
        var output = new OutputCollector();
        var run = Launcher().Start(Request("echo out1; echo err1 >&2; echo out2; echo err2 >&2; exit 4", output.Add, name: "app"));

        var exit = await run.Exited.Bounded();

        exit.ExitCode.ShouldBe(4);
        output.Lines.Where(l => !l.IsStdErr).ShouldBe([new("app", run.Pid, false, "out1"), new("app", run.Pid, false, "out2")]);
        output.Lines.Where(l => l.IsStdErr).ShouldBe([new("app", run.Pid, true, "err1"), new("app", run.Pid, true, "err2")]);
    }

    [Fact]
    public async Task Start_KeepsPartialLastLineAndDropsCarriageReturn_WhenOutputIsUnterminated()
    {
        var output = new OutputCollector();

        await Launcher().Start(Request("printf 'a\\nb\\r\\n\\nlast'; printf 'tail' >&2", output.Add)).Exited.Bounded();

        output.Lines.Where(l => !l.IsStdErr).Select(l => l.Text).ShouldBe(["a", "b", "", "last"]);
        output.Lines.Where(l => l.IsStdErr).Select(l => l.Text).ShouldBe(["tail"]);
    }

    [Fact]
    public async Task Start_SplitsLineInto64KiBPieces_WhenLineIsLonger()
    {
        var output = new OutputCollector();

        await Launcher().Start(Request("head -c 200000 /dev/zero | tr '\\0' x; echo; echo after", output.Add)).Exited.Bounded();

        output.Lines.Select(l => l.Text.Length).ShouldBe([65536, 65536, 65536, 200000 - (3 * 65536), 5]);
        output.Lines.Take(4).ShouldAllBe(l => l.Text.All(c => c == 'x'));
        output.Lines[^1].Text.ShouldBe("after");
    }

    [Fact]
    public async Task Start_DeliversEveryLineWhole_WhenLinesOutgrowTheReadBufferStepByStep()
    {
        // Line lengths from 0 to ≈20 KiB: each crosses the pump's small first buffer and the doublings after it.
        var lengths = Enumerable.Range(0, 60).Select(i => i * i * 6).ToList();
        var script = "for n in " + string.Join(' ', lengths) + "; do head -c \"$n\" /dev/zero | tr '\\0' x; echo; done";
        var output = new OutputCollector();

        (await Launcher().Start(Request(script, output.Add)).Exited.Bounded()).Success.ShouldBeTrue();

        output.Lines.Where(l => !l.IsStdErr).Select(l => l.Text.Length).ShouldBe(lengths);
        output.Lines.ShouldAllBe(l => l.Text.All(c => c == 'x'));
    }

    [Fact]
    public async Task Start_KeepsLineWhole_WhenLineIsExactly64KiB()
    {
        var output = new OutputCollector();

        await Launcher().Start(Request("head -c 65536 /dev/zero | tr '\\0' x; echo; echo after", output.Add)).Exited.Bounded();

        output.Lines.Select(l => l.Text.Length).ShouldBe([65536, 5]);
    }

    [Fact]
    public async Task Start_NeverSplitsUtf8Character_WhenCuttingLongLine()
    {
        var output = new OutputCollector();
        // One ASCII byte then 2-byte characters: the 64 KiB cut would fall inside a character.
        var script = "printf a; head -c 100000 /dev/zero | tr '\\0' x | sed 's/x/é/g' | head -c 100000";

        await Launcher().Start(Request(script, output.Add)).Exited.Bounded();

        // 'a' + 50000 × 'é' (100001 bytes, no newline): the first cut backs off to byte 65535.
        output.Lines.Select(l => l.Text).ShouldBe(["a" + new string('é', 32767), new string('é', 50000 - 32767)]);
    }

    [Fact]
    public async Task Start_DeliversEveryLineWithBoundedMemory_When100MBIsWritten()
    {
        const int lines = 1_048_576; // 100-byte lines: exactly 100 MiB
        var text = new string('x', 99);
        long count = 0, wrong = 0, stderr = 0, peakHeap = 0;
        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        void OnLine(OutputLine line)
        {
            if (line.IsStdErr)
            {
                stderr++;
                return;
            }

            if (++count % 65536 == 0)
            {
                peakHeap = Math.Max(peakHeap, GC.GetGCMemoryInfo().HeapSizeBytes);
            }

            wrong += line.Text == text ? 0 : 1;
        }

        var exit = await Launcher().Start(Request($"yes '{text}' | head -n {lines}", OnLine)).Exited.Bounded();

        exit.Success.ShouldBeTrue();
        count.ShouldBe(lines);
        wrong.ShouldBe(0);
        stderr.ShouldBe(0); // `yes` dies of SIGPIPE quietly: the shim restored SIGPIPE's default disposition
        (peakHeap - baseline).ShouldBeLessThan(64L * 1024 * 1024);
    }

    [Fact]
    public async Task Start_InheritsPilotStdout_WhenOutputIsRaw()
    {
        var file = Path.GetTempFileName();
        try
        {
            var run = Launcher().Start(Request($"l=$(readlink /proc/$$/fd/1); echo \"$l\" > {file}", onOutput: null));

            (await run.Exited.Bounded()).Success.ShouldBeTrue();

            File.ReadAllText(file).Trim().ShouldBe(new FileInfo("/proc/self/fd/1").LinkTarget);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Exited_CompletesAfterDrainTimeout_WhenGrandchildKeepsPipeOpen()
    {
        var output = new OutputCollector();
        var run = (RunningProcess)Launcher(drainTimeout: TimeSpan.FromMilliseconds(300))
            .Start(Request("sleep 300 & echo hi", output.Add));
        try
        {
            var exit = await run.Exited.Bounded();

            exit.Success.ShouldBeTrue();
            output.Lines.Select(l => l.Text).ShouldBe(["hi"]);
            ProcessGroupKiller.GroupExists(run.Pid).ShouldBeTrue(); // the sleep still holds the pipe
        }
        finally
        {
            await ProcessGroupKiller.KillAsync(run, cancellationToken: TestContext.Current.CancellationToken).Bounded();
        }
    }

    [Fact]
    public async Task Exited_HasClosedBothOutputPipes_OnceTheChildIsDone()
    {
        var output = new OutputCollector();
        var run = Launcher().Start(Request("readlink /proc/self/fd/1; readlink /proc/self/fd/2 >&2", output.Add));

        (await run.Exited.Bounded()).Success.ShouldBeTrue();

        var pipes = output.Lines.Select(l => l.Text).ToList();
        pipes.Count.ShouldBe(2);
        pipes.ShouldAllBe(p => p.StartsWith("pipe:[", StringComparison.Ordinal));
        OpenDescriptorTargets().Intersect(pipes).ShouldBeEmpty();
    }

    [Fact]
    public async Task AGrandchildHoldingThePipe_IsStillLoggedAfterTheRunEnds_AndThePipeClosedWhenItIsDone()
    {
        var fifo = Path.Combine(Path.GetTempPath(), $"pilot-grandchild-{Guid.NewGuid():N}");
        using (var mkfifo = Process.Start("mkfifo", [fifo]))
        {
            await mkfifo.WaitForExitAsync(TestContext.Current.CancellationToken).Bounded();
            mkfifo.ExitCode.ShouldBe(0);
        }
        var output = new OutputCollector();
        var run = Launcher(drainTimeout: TimeSpan.FromMilliseconds(200))
            .Start(Request($"readlink /proc/self/fd/1; (read go < {fifo}; echo late) &", output.Add));
        try
        {
            (await run.Exited.Bounded()).Success.ShouldBeTrue();
            var pipe = output.Lines[0].Text;
            pipe.ShouldStartWith("pipe:[");
            OpenDescriptorTargets().ShouldContain(pipe); // the grandchild still writes to it

            await File.WriteAllTextAsync(fifo, "go\n", TestContext.Current.CancellationToken);

            await output.WaitFor("late").Bounded();
            (await EventuallyAsync(() => !OpenDescriptorTargets().Contains(pipe), TimeSpan.FromSeconds(10))).ShouldBeTrue();
        }
        finally
        {
            File.Delete(fifo);
        }
    }

    /// <summary>What each of this process's descriptors refers to (<c>pipe:[inode]</c> for a pipe).</summary>
    private static HashSet<string> OpenDescriptorTargets()
    {
        var targets = new HashSet<string>(StringComparer.Ordinal);
        foreach (var fd in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget is { } target)
                {
                    targets.Add(target);
                }
            }
            catch (IOException)
            {
                // closed while listed
            }
        }
        return targets;
    }

    [Fact]
    public async Task SignalGroup_ReachesChildBeforeShimSetsGroup_WhenSentRightAfterStart()
    {
        var run = Launcher().Start(Request("sleep 300", null));

        run.SignalGroup(SignalNames.SIGKILL);
        var exit = await run.Exited.Bounded();

        exit.Signal.ShouldBe(SignalNames.SIGKILL);
        exit.ToString().ShouldBe("signal: killed");
    }

    [Fact]
    public async Task SignalGroup_IsNoOp_WhenGroupIsGone()
    {
        var run = Launcher().Start(Request("exit 0", null));
        await run.Exited.Bounded();

        run.SignalGroup(SignalNames.SIGKILL);
        run.SignalGroup(SignalNames.SIGKILL);

        ((RunningProcess)run).GroupExists.ShouldBeFalse();
    }

    [Fact]
    public async Task Start_SpawnCostThroughShim_IsMeasured()
    {
        var launcher = Launcher();
        var times = new List<double>();
        for (var i = 0; i < 50; i++)
        {
            var started = Stopwatch.GetTimestamp();
            var exit = await launcher.Start(new ProcessStartRequest("true", new CommandSpec("/bin/true", []), null)).Exited.Bounded();
            times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            exit.Success.ShouldBeTrue();
        }

        times.Sort();
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"spawn+exit of /bin/true through the shim: median {times[25]:F1} ms, min {times[0]:F1} ms, max {times[^1]:F1} ms");
        times[25].ShouldBeLessThan(5000);
    }
}
