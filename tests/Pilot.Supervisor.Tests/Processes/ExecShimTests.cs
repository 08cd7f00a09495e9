using System.Globalization;
using Pilot.Supervisor.Processes;
using Pilot.Testing;
using Shouldly;
using Xunit;
using static Pilot.Supervisor.Tests.Processes.ProcessTestSupport;

namespace Pilot.Supervisor.Tests.Processes;

/// <summary>
/// The exec shims themselves, called from a shell so that they start in the state a test chooses. <c>pilot __exec</c>:
/// in the Native AOT binary (scripts/test runs these with <c>PILOT_BIN=artifacts/pilot</c>) a C main handles it before
/// the runtime starts; under JIT the managed <see cref="ExecShim"/> does. The in-memory shim (<see cref="MemoryExecShim"/>,
/// reached by the shell as <c>/proc/TEST_PID/fd/N</c>) hands what it does not do itself to <c>pilot __exec</c>. All
/// must behave the same.
/// </summary>
public sealed class ExecShimTests
{
    /// <summary>The shim under test, as a shell command prefix.</summary>
    public enum Shim
    {
        Pilot,
        Memory,
    }

    private static async Task<(ProcessExit Exit, List<OutputLine> Lines)> RunThroughShellAsync(string script, Shim shim = Shim.Pilot)
    {
        var output = new OutputCollector();
        var request = Request(script.Replace("$EXEC", shim == Shim.Pilot ? "\"$PILOT_SHIM\" __exec" : "\"$MEMORY_SHIM\" \"$PILOT_SHIM\"", StringComparison.Ordinal), output.Add) with
        {
            ExtraEnvironment = new Dictionary<string, string> { ["PILOT_SHIM"] = PilotBin, ["MEMORY_SHIM"] = MemoryShimForChildren() },
        };
        var exit = await Launcher().Start(request).Exited.Bounded();
        return (exit, [.. output.Lines]);
    }

    /// <summary>This process's in-memory shim as another process reaches it.</summary>
    private static string MemoryShimForChildren()
    {
        var path = MemoryExecShim.Shared.Path;
        path.ShouldNotBeNull($"the build embeds the shim on x86-64 Linux: {MemoryExecShim.Shared.Unavailable}");
        return path.Replace("/proc/self/", $"/proc/{Environment.ProcessId}/", StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Shim.Pilot)]
    [InlineData(Shim.Memory)]
    public async Task Shim_ExecsInOwnGroupWithDefaultSignals_WhenStartedWithSignalsIgnored(Shim shim)
    {
        // The shell ignores three signals; SIG_IGN survives exec, so without the shim's reset the program would inherit it.
        // The masks are read by the exec'd program itself: a shell waiting for a child blocks every signal meanwhile.
        var (exit, lines) = await RunThroughShellAsync(
            "trap '' INT PIPE TERM; exec $EXEC sh -c " +
            "'echo $$; cut -d\" \" -f5 /proc/$$/stat; exec grep -E \"^Sig(Ign|Blk)\" /proc/self/status'", shim);

        exit.Success.ShouldBeTrue(string.Join('\n', lines.Select(l => l.Text)));
        var texts = lines.Where(l => !l.IsStdErr).Select(l => l.Text).ToList();
        texts.Count.ShouldBe(4);
        var pid = int.Parse(texts[0], CultureInfo.InvariantCulture);
        texts.Skip(1).ShouldBe([pid.ToString(CultureInfo.InvariantCulture), "SigBlk:\t0000000000000000", "SigIgn:\t0000000000000000"]);
    }

    [Theory]
    [InlineData(Shim.Pilot, "/nonexistent/program", 127, "fork/exec /nonexistent/program: no such file or directory")]
    [InlineData(Shim.Pilot, "no-such-program-on-path", 127, "exec: \"no-such-program-on-path\": executable file not found in $PATH")]
    [InlineData(Shim.Pilot, "/etc/passwd", 126, "fork/exec /etc/passwd: permission denied")]
    [InlineData(Shim.Memory, "/nonexistent/program", 127, "fork/exec /nonexistent/program: no such file or directory")]
    [InlineData(Shim.Memory, "no-such-program-on-path", 127, "exec: \"no-such-program-on-path\": executable file not found in $PATH")]
    [InlineData(Shim.Memory, "/etc/passwd", 126, "fork/exec /etc/passwd: permission denied")]
    public async Task Shim_ExitsWithGoLikeError_WhenExecFails(Shim shim, string program, int exitCode, string message)
    {
        var (exit, lines) = await RunThroughShellAsync($"exec $EXEC {program} an-argument", shim);

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

    [Theory]
    [InlineData(Shim.Pilot)]
    [InlineData(Shim.Memory)]
    public async Task Shim_ExitsWith127_WhenNoCommandIsGiven(Shim shim)
    {
        var (exit, lines) = await RunThroughShellAsync("exec $EXEC", shim);

        exit.ShouldBe(new ProcessExit(ExecShim.NotFoundExitCode, null));
        lines.Select(l => l.Text).ShouldBe(["exec: no command"]);
    }

    /// <summary>Writes an executable (mode 0500, or 0400 when not <paramref name="executable"/>) at <paramref name="path"/>.</summary>
    [Theory]
    [InlineData(Shim.Pilot)]
    [InlineData(Shim.Memory)]
    public async Task Shim_RunsAScriptWithoutShebang_WithTheShell_AsExecvpDoes(Shim shim)
    {
        var directory = Directory.CreateTempSubdirectory("pilot-shim-");
        try
        {
            var script = Path.Combine(directory.FullName, "no-shebang");
            ProgramFile.Write(script, "echo ran \"$@\" from $0\n");

            var (exit, lines) = await RunThroughShellAsync($"PATH=\"{directory.FullName}:$PATH\" exec $EXEC no-shebang one two", shim);

            exit.Success.ShouldBeTrue(string.Join('\n', lines.Select(l => l.Text)));
            lines.Select(l => l.Text).ShouldBe([$"ran one two from {script}"]);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData(Shim.Pilot)]
    [InlineData(Shim.Memory)]
    public async Task Shim_SearchesEveryPathEntry_PastMissingAndForbiddenOnes(Shim shim)
    {
        var directory = Directory.CreateTempSubdirectory("pilot-shim-");
        try
        {
            // An entry where the program exists but may not be executed comes first: execvp goes on past it.
            var (forbidden, allowed) = (Path.Combine(directory.FullName, "forbidden"), Path.Combine(directory.FullName, "allowed"));
            ProgramFile.Write(Path.Combine(forbidden, "tool"), "#!/bin/sh\necho forbidden\n", executable: false);
            ProgramFile.Write(Path.Combine(allowed, "tool"), "#!/bin/sh\necho allowed \"$@\"\n");

            var (exit, lines) = await RunThroughShellAsync(
                $"PATH=\"/nonexistent:{forbidden}:{allowed}:$PATH\" exec $EXEC tool it", shim);

            exit.Success.ShouldBeTrue(string.Join('\n', lines.Select(l => l.Text)));
            lines.Select(l => l.Text).ShouldBe(["allowed it"]);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
