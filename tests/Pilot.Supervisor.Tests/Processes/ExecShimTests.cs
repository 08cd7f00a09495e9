using System.Globalization;
using Pilot.Supervisor.Processes;
using Shouldly;
using Xunit;
using static Pilot.Supervisor.Tests.Processes.ProcessTestSupport;

namespace Pilot.Supervisor.Tests.Processes;

/// <summary>
/// <c>pilot __exec</c> itself, called from a shell so that it starts in the state a test chooses. In the Native AOT
/// binary (scripts/test runs these with <c>PILOT_BIN=artifacts/pilot</c>) a C main handles it before the runtime starts;
/// under JIT the managed <see cref="ExecShim"/> does. Both must behave the same.
/// </summary>
public sealed class ExecShimTests
{
    private static async Task<(ProcessExit Exit, List<OutputLine> Lines)> RunThroughShellAsync(string script)
    {
        var output = new OutputCollector();
        var request = Request(script, output.Add) with
        {
            ExtraEnvironment = new Dictionary<string, string> { ["PILOT_SHIM"] = PilotBin },
        };
        var exit = await Launcher().Start(request).Exited.Bounded();
        return (exit, [.. output.Lines]);
    }

    [Fact]
    public async Task Shim_ExecsInOwnGroupWithDefaultSignals_WhenStartedWithSignalsIgnored()
    {
        // The shell ignores three signals; SIG_IGN survives exec, so without the shim's reset the program would inherit it.
        // The masks are read by the exec'd program itself: a shell waiting for a child blocks every signal meanwhile.
        var (exit, lines) = await RunThroughShellAsync(
            "trap '' INT PIPE TERM; exec \"$PILOT_SHIM\" __exec sh -c " +
            "'echo $$; cut -d\" \" -f5 /proc/$$/stat; exec grep -E \"^Sig(Ign|Blk)\" /proc/self/status'");

        exit.Success.ShouldBeTrue(string.Join('\n', lines.Select(l => l.Text)));
        var texts = lines.Where(l => !l.IsStdErr).Select(l => l.Text).ToList();
        texts.Count.ShouldBe(4);
        var pid = int.Parse(texts[0], CultureInfo.InvariantCulture);
        texts.Skip(1).ShouldBe([pid.ToString(CultureInfo.InvariantCulture), "SigBlk:\t0000000000000000", "SigIgn:\t0000000000000000"]);
    }

    [Theory]
    [InlineData("/nonexistent/program", 127, "fork/exec /nonexistent/program: no such file or directory")]
    [InlineData("no-such-program-on-path", 127, "exec: \"no-such-program-on-path\": executable file not found in $PATH")]
    [InlineData("/etc/passwd", 126, "fork/exec /etc/passwd: permission denied")]
    public async Task Shim_ExitsWithGoLikeError_WhenExecFails(string program, int exitCode, string message)
    {
        var (exit, lines) = await RunThroughShellAsync($"exec \"$PILOT_SHIM\" __exec {program} an-argument");

        exit.ShouldBe(new ProcessExit(exitCode, null));
        lines.ShouldHaveSingleItem().ShouldBe(new OutputLine("job", lines[0].Pid, IsStdErr: true, message));
    }

    [Fact]
    public async Task ShimAs_TakesTheGivenIdsAndGroups_BeforeExec()
    {
        Assert.SkipUnless(Environment.IsPrivilegedProcess, "switching to another user needs root");
        var (exit, lines) = await RunThroughShellAsync("exec \"$PILOT_SHIM\" __exec_as 65534 65534 65534,44 sh -c 'echo $(id -u) $(id -g) $(id -G)'");

        exit.Success.ShouldBeTrue(string.Join('\n', lines.Select(l => l.Text)));
        lines.Select(l => l.Text).ShouldBe(["65534 65534 65534 44"]);
    }

    [Fact]
    public async Task ShimAs_KeepsTheUid_WhenGivenDash()
    {
        Assert.SkipUnless(Environment.IsPrivilegedProcess, "setting groups needs root");
        var (exit, lines) = await RunThroughShellAsync("exec \"$PILOT_SHIM\" __exec_as - 44 44 sh -c 'echo $(id -u) $(id -g) $(id -G)'");

        exit.Success.ShouldBeTrue(string.Join('\n', lines.Select(l => l.Text)));
        lines.Select(l => l.Text).ShouldBe(["0 44 44"]);
    }

    [Fact]
    public async Task Shim_ExitsWith127_WhenNoCommandIsGiven()
    {
        var (exit, lines) = await RunThroughShellAsync("exec \"$PILOT_SHIM\" __exec");

        exit.ShouldBe(new ProcessExit(ExecShim.NotFoundExitCode, null));
        lines.Select(l => l.Text).ShouldBe(["exec: no command"]);
    }
}
