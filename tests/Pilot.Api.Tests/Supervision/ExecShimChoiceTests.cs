using System.Runtime.InteropServices;
using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Supervision;

/// <summary>
/// The <c>pilot</c> binary (JIT, and Native AOT in scripts/test) starts its jobs through the in-memory exec shim on
/// x86-64, and the jobs keep what <c>pilot __exec</c> gives them: their own process group, /dev/null stdin, no
/// ignored or blocked signals.
/// </summary>
public sealed class ExecShimChoiceTests
{
    [Fact]
    public async Task Jobs_StartThroughTheInMemoryShim_InTheirOwnGroup_WithDefaultSignals()
    {
        Assert.SkipUnless(RuntimeInformation.ProcessArchitecture == Architecture.X64, "the in-memory shim is built for x86-64 only");
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
        pilot.Output.ShouldContain("children start through the in-memory exec shim /proc/self/fd/");
        var probe = pilot.Lines.Single(l => l.Contains("probe pid=", StringComparison.Ordinal) && !l.Contains("loaded config", StringComparison.Ordinal));
        var pid = probe[(probe.IndexOf("pid=", StringComparison.Ordinal) + 4)..].Split(' ')[0];
        probe.ShouldEndWith($"probe pid={pid} pgid={pid} stdin=/dev/null");
        pilot.Output.ShouldContain("SigBlk:\t0000000000000000");
        pilot.Output.ShouldContain("SigIgn:\t0000000000000000");
    }
}
