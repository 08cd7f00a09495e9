using System.Diagnostics;
using System.Text;
using Pilot.Supervisor.Processes;
using Shouldly;

namespace Pilot.Supervisor.Tests.Processes;

/// <summary>What a job costs (issue 27, item 3), read from <c>/proc/PID/stat</c>.</summary>
public sealed class ProcessGroupUsageTests
{
    [Fact]
    public void Parse_CountsFieldsFromTheLastParenthesis_SoACommandNameWithSpacesAndParensIsSafe()
    {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime ... rss
        const string stat = "4242 (my (odd) name) S 1 4200 4200 0 -1 4194560 100 0 0 0 250 50 7 3 20 0 1 0 12345 1000000 321 18446744073709551615";

        ProcessGroupUsage.Parse(Encoding.ASCII.GetBytes(stat)).ShouldBe((4200, 310L, 321L));
    }

    [Fact]
    public void Parse_ATruncatedLine_IsNull()
    {
        ProcessGroupUsage.Parse("4242 (sh) S 1 4200 4200"u8).ShouldBeNull();
        ProcessGroupUsage.Parse("garbage"u8).ShouldBeNull();
    }

    [Fact]
    public void Read_SumsEveryProcessOfTheGroup_AndLeavesOutGroupsWithoutProcesses()
    {
        // A shell leading its own group (setsid) with two sleeping children in it.
        using var group = Process.Start(new ProcessStartInfo("setsid", ["sh", "-c", "sleep 30 & sleep 30 & echo ready; wait"])
        {
            RedirectStandardOutput = true,
        })!;
        try
        {
            group.StandardOutput.ReadLine().ShouldBe("ready");
            var usage = ProcessGroupUsage.Read([group.Id, int.MaxValue - 1]);

            usage.Keys.ShouldBe([group.Id]);
            usage[group.Id].Processes.ShouldBe(3);
            usage[group.Id].RssBytes.ShouldBeGreaterThan(0);
            usage[group.Id].CpuSeconds.ShouldBeGreaterThanOrEqualTo(0);
        }
        finally
        {
            group.Kill(entireProcessTree: true);
            group.WaitForExit();
        }
    }
}
