using System.Runtime.InteropServices;
using Pilot.Api.Tests.Support;
using Pilot.Testing;
using Shouldly;

namespace Pilot.Api.Tests.Supervision;

/// <summary>
/// How the <c>pilot</c> binary turns a job into a process (docs/child-exec.md). Native AOT (scripts/test runs these
/// against artifacts/pilot): the execve wrapper of <c>Native/main.c</c> takes the steps in Process.Start's child and
/// execs the program, one exec per child. JIT: the in-memory exec shim on x86-64, then the program. Either way a job
/// gets its own process group, /dev/null stdin, no ignored or blocked signals, and the program is searched on the PATH
/// of its own environment.
/// </summary>
public sealed class ChildExecTests
{
    /// <summary>The JIT apphost has its <c>pilot.dll</c> beside it; the Native AOT binary stands alone.</summary>
    private static bool IsJitBuild => File.Exists(Path.Combine(Path.GetDirectoryName(Checkout.PilotBinary())!, "pilot.dll"));

    [Fact]
    public async Task Jobs_RunInTheirOwnGroup_WithDevNullStdin_AndDefaultSignals()
    {
        Assert.SkipUnless(RuntimeInformation.ProcessArchitecture == Architecture.X64, "the in-memory shim of JIT builds is built for x86-64 only");
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start("""
            {
              control: { socket: "SOCKET" },
              logging: { level: "DEBUG" },
              jobs: [ { name: "probe", exec: ["sh", "-c",
                "echo probe pid=$$ pgid=$(cut -d' ' -f5 /proc/$$/stat) stdin=$(readlink /proc/$$/fd/0); exec grep -E '^Sig(Ign|Blk)' /proc/self/status"] } ],
            }
            """);

        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
        pilot.Output.ShouldContain(IsJitBuild
            ? "children start through the in-memory exec shim /proc/self/fd/"
            : "__exec, its steps taken in the child before one exec of the program");
        var probe = pilot.Lines.Single(l => l.Contains("probe pid=", StringComparison.Ordinal) && !l.Contains("loaded config", StringComparison.Ordinal));
        var pid = probe[(probe.IndexOf("pid=", StringComparison.Ordinal) + 4)..].Split(' ')[0];
        probe.ShouldEndWith($"probe pid={pid} pgid={pid} stdin=/dev/null");
        pilot.Output.ShouldContain("SigBlk:\t0000000000000000");
        pilot.Output.ShouldContain("SigIgn:\t0000000000000000");
    }

    /// <summary>
    /// A child gets Pilot's whole environment however it was handed over (the AOT binary passes Process.Start one marker
    /// variable and execs with the C strings it keeps, docs/child-exec.md): what Pilot inherited, an empty variable, the
    /// pid of every running job, an operator's -putenv, the job's login variables; and never the marker.
    /// </summary>
    [Fact]
    public async Task AChild_GetsTheWholeEnvironment_AndNotTheMarkerItWasPassedWith()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start("""
            {
              control: { socket: "SOCKET" },
              jobs: [
                { name: "sleeper", exec: "sleep 60", health: { exec: "true", interval: 1, ttl: 5 } },
                { name: "probe", exec: ["sh", "-c", "env | sed 's/^/env-probe /'; echo env-probe-done"], when: { source: "sleeper", once: "healthy" } },
                { name: "again", exec: ["sh", "-c", "env | sed 's/^/env-again /'; echo env-again-done"], when: { source: "SIGHUP" } },
              ],
            }
            """, environment: new Dictionary<string, string> { ["PILOT_INHERITED_PROBE"] = "from the parent", ["PILOT_EMPTY_PROBE"] = "" });

        await pilot.WaitForLineAsync("env-probe-done", timeout.Token);
        var probe = Variables(pilot, "env-probe");
        probe.ShouldContain("PILOT_INHERITED_PROBE=from the parent");
        probe.ShouldContain("PILOT_EMPTY_PROBE=");
        probe.ShouldContain(l => l.StartsWith("PATH=/", StringComparison.Ordinal));
        probe.Count(l => l.StartsWith("CONTAINERPILOT_SLEEPER_PID=", StringComparison.Ordinal)).ShouldBe(1, "a variable once");
        probe.ShouldNotContain(l => l.StartsWith("PILOT_CHILD_ENVIRONMENT", StringComparison.Ordinal));

        // Changed after children have started: the next child sees the new values.
        await pilot.WaitForSocketAsync(timeout.Token);
        using var client = pilot.CreateClient();
        using var body = new StringContent("""{"PILOT_INHERITED_PROBE":"put over","PILOT_PUT_PROBE":"put","PILOT_PUT_EMPTY":""}""");
        (await client.PostAsync("/v3/environ", body, timeout.Token)).IsSuccessStatusCode.ShouldBeTrue();
        pilot.Signal(1); // SIGHUP
        await pilot.WaitForLineAsync("env-again-done", timeout.Token);
        var again = Variables(pilot, "env-again");
        again.ShouldContain("PILOT_INHERITED_PROBE=put over");
        again.ShouldNotContain("PILOT_INHERITED_PROBE=from the parent");
        again.ShouldContain("PILOT_PUT_PROBE=put");
        again.ShouldContain("PILOT_PUT_EMPTY=");
        again.ShouldContain("PILOT_EMPTY_PROBE=");
        again.ShouldContain(l => l.StartsWith("CONTAINERPILOT_SLEEPER_PID=", StringComparison.Ordinal));
        again.ShouldNotContain(l => l.StartsWith("PILOT_CHILD_ENVIRONMENT", StringComparison.Ordinal));
    }

    private static List<string> Variables(RunningPilot pilot, string tag) =>
        pilot.Lines.Where(l => l.Contains($" {tag} ", StringComparison.Ordinal))
            .Select(l => l[(l.IndexOf($" {tag} ", StringComparison.Ordinal) + tag.Length + 2)..]).ToList();

    /// <summary>
    /// What the kernel is asked to exec for one job, traced with strace: the AOT binary execs the program and nothing
    /// else (ContainerPilot's one exec per child); a JIT build execs the in-memory shim first.
    /// </summary>
    [Fact]
    public async Task AJob_IsExecdOnce_InTheNativeAotBinary()
    {
        Assert.SkipUnless(RuntimeInformation.ProcessArchitecture == Architecture.X64, "the in-memory shim of JIT builds is built for x86-64 only");
        using var timeout = PilotProcess.Timeout();
        var trace = Path.Combine(Directory.CreateTempSubdirectory("pilot-exec-trace-").FullName, "execve.txt");
        await using var pilot = RunningPilot.Start("""
            {
              control: { socket: "SOCKET" },
              jobs: [ { name: "once", exec: ["/bin/sh", "-c", "exit 0", "exec-count-probe"] } ],
            }
            """, wrapper: ["strace", "-f", "-qq", "-s", "512", "-e", "trace=execve", "-o", trace]);

        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
        var execs = File.ReadAllLines(trace)
            .Where(l => l.Contains("exec-count-probe", StringComparison.Ordinal) && l.Contains("execve(", StringComparison.Ordinal))
            .Select(l => l[(l.IndexOf("execve(\"", StringComparison.Ordinal) + 8)..].Split('"')[0])
            .ToList();
        if (IsJitBuild)
        {
            execs.Count.ShouldBe(2, string.Join('\n', execs));
            execs[0].ShouldStartWith("/proc/self/fd/");
            execs[1].ShouldBe("/bin/sh");
        }
        else
        {
            execs.ShouldBe(["/bin/sh"], "one exec, of the job's program: no `pilot __exec` between\n" + File.ReadAllText(trace));
        }
    }

    /// <summary>
    /// The program is looked up on the PATH the job's environment has, not on the one Pilot started with: a
    /// <c>-putenv PATH=…</c> reaches the next job's search (v3 keeps puts in its environment, which Go's exec searches).
    /// </summary>
    [Fact]
    public async Task AJobsProgram_IsSearchedOnThePathOfItsEnvironment_AfterAPutenv()
    {
        using var timeout = PilotProcess.Timeout();
        var pilotBinary = Checkout.PilotBinary();
        await using var pilot = RunningPilot.Start($$"""
            {
              control: { socket: "SOCKET" },
              jobs: [
                { name: "setpath", exec: ["{{pilotBinary}}", "-config", "DIR/pilot.json5", "-putenv", "PATH=DIR/tools:/usr/bin:/bin"] },
                { name: "tool", exec: ["only-on-the-put-path", "one"], when: { source: "setpath", once: "exitSuccess" } },
              ],
            }
            """, prepareDirectory: directory => ProgramFile.Write(Path.Combine(directory, "tools", "only-on-the-put-path"), "#!/bin/sh\necho tool ran \"$@\"\n"));

        await pilot.WaitForLineAsync("tool ran one", timeout.Token);
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
    }

    /// <summary>
    /// execvp's search as Go's and libc's: an entry where the name is not executable is passed over, and a program
    /// without <c>#!</c> runs with /bin/sh (in the AOT binary both go through the wrapper's search, the second on to
    /// <c>pilot __exec</c>); a program found nowhere is v3's error.
    /// </summary>
    [Fact]
    public async Task ThePathSearch_PassesOverForbiddenEntries_AndRunsAScriptWithoutShebangWithSh()
    {
        using var timeout = PilotProcess.Timeout();
        var tools = Directory.CreateTempSubdirectory("pilot-path-").FullName;
        var (forbidden, allowed) = (Path.Combine(tools, "forbidden"), Path.Combine(tools, "allowed"));
        ProgramFile.Write(Path.Combine(forbidden, "tool"), "#!/bin/sh\necho forbidden tool\n", executable: false);
        ProgramFile.Write(Path.Combine(allowed, "tool"), "#!/bin/sh\necho allowed tool \"$@\"\n");
        ProgramFile.Write(Path.Combine(allowed, "no-shebang"), "echo no-shebang ran \"$@\" in $0\n");
        await using var pilot = RunningPilot.Start("""
            {
              control: { socket: "SOCKET" },
              jobs: [
                { name: "allowed", exec: ["tool", "two"] },
                { name: "plain", exec: ["no-shebang", "three"] },
              ],
            }
            """, environment: new Dictionary<string, string> { ["PATH"] = $"/nonexistent:{forbidden}:{allowed}:/usr/bin:/bin" });

        await pilot.WaitForLineAsync("allowed tool two", timeout.Token);
        await pilot.WaitForLineAsync("no-shebang ran three in", timeout.Token);
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
        pilot.Output.ShouldNotContain("forbidden tool");
    }
}
