using System.Globalization;
using Pilot.Supervisor.Processes;
using Shouldly;
using Xunit;
using static Pilot.Supervisor.Tests.Processes.ProcessTestSupport;

namespace Pilot.Supervisor.Tests.Processes;

/// <summary>
/// The launcher with the in-memory exec shim (<see cref="MemoryExecShim"/>): children start without a second start of
/// Pilot's binary, keep every property of <c>pilot __exec</c>, and fall back to it when the kernel refuses the shim.
/// (The shim's own behaviour, side by side with <c>pilot __exec</c>, is in <see cref="ExecShimTests"/>.)
/// </summary>
public sealed class MemoryExecShimTests
{
    private static ProcessLauncher LauncherWith(string shimPath, MemoryExecShim? memoryShim) => new(new ProcessLauncherOptions
    {
        ShimPath = shimPath,
        MemoryShim = memoryShim,
    });

    [Fact]
    public void Shared_IsAvailable_OnX64Linux()
    {
        Assert.SkipUnless(System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64,
            "the shim is built for x86-64 only");

        MemoryExecShim.Shared.Unavailable.ShouldBeNull();
        MemoryExecShim.Shared.Path.ShouldStartWith("/proc/self/fd/");
        File.ReadAllBytes(MemoryExecShim.Shared.Path!)[..4].ShouldBe("\u007fELF"u8.ToArray());
    }

    [Fact]
    public async Task Start_RunsTheJobInItsOwnGroupWithDevNullStdin_WithoutTouchingPilotsBinary()
    {
        Assert.SkipWhen(MemoryExecShim.Shared.Path is null, MemoryExecShim.Shared.Unavailable ?? "");
        var output = new OutputCollector();
        // A fallback that does not exist: the job can only have started through the in-memory shim.
        var launcher = LauncherWith("/nonexistent/pilot", MemoryExecShim.Shared);

        var run = launcher.Start(Request("echo $$; cut -d' ' -f5 /proc/$$/stat; readlink /proc/$$/fd/0; exec grep -E '^Sig(Ign|Blk)' /proc/self/status", output.Add));
        var exit = await run.Exited.Bounded();

        exit.Success.ShouldBeTrue(string.Join('\n', output.Lines.Select(l => l.Text)));
        var pid = run.Pid.ToString(CultureInfo.InvariantCulture);
        output.Lines.Select(l => l.Text).ShouldBe([pid, pid, "/dev/null", "SigBlk:\t0000000000000000", "SigIgn:\t0000000000000000"]);
    }

    [Fact]
    public async Task Start_LeavesNoDescriptorOfTheShim_InTheJob()
    {
        Assert.SkipWhen(MemoryExecShim.Shared.Path is null, MemoryExecShim.Shared.Unavailable ?? "");
        var output = new OutputCollector();

        var exit = await LauncherWith(PilotBin, MemoryExecShim.Shared)
            .Start(Request("for fd in /proc/$$/fd/*; do readlink $fd; done; true", output.Add)).Exited.Bounded();

        exit.Success.ShouldBeTrue();
        output.Lines.ShouldNotBeEmpty();
        output.Lines.ShouldAllBe(l => !l.Text.Contains("pilot-exec-shim", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Start_FallsBackToPilotExec_AndKeepsDoingSo_WhenTheShimCannotBeExecuted()
    {
        // /etc/passwd stands for a memfd the kernel will not execute (vm.memfd_noexec, a security module): EACCES.
        var refused = new MemoryExecShim("/etc/passwd");
        var launcher = LauncherWith(PilotBin, refused);
        var output = new OutputCollector();

        var first = await launcher.Start(Request("echo first; cut -d' ' -f5 /proc/$$/stat", output.Add)).Exited.Bounded();
        var second = await launcher.Start(Request("echo second", output.Add)).Exited.Bounded();

        first.Success.ShouldBeTrue(string.Join('\n', output.Lines.Select(l => l.Text)));
        second.Success.ShouldBeTrue();
        output.Lines.Select(l => l.Text).ShouldContain("first");
        output.Lines.Select(l => l.Text).ShouldContain("second");
        refused.Path.ShouldBeNull();
        refused.Unavailable.ShouldNotBeNull().ShouldContain("/etc/passwd");
    }
}
