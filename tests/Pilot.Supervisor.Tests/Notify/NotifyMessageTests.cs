using System.Text;
using Pilot.Supervisor.Notify;
using Pilot.Supervisor.Processes;
using Shouldly;

namespace Pilot.Supervisor.Tests.Notify;

/// <summary>systemd's notify datagrams as Pilot reads them: what counts, and every way one is malformed.</summary>
public sealed class NotifyMessageTests
{
    [Fact]
    public void Parse_ReadsEveryAssignment_AndTheWordsPilotActsOn()
    {
        var (message, error) = NotifyMessage.Parse("READY=1\nSTATUS=Processing requests: 5 = busy\nMAINPID=42\nWATCHDOG=1\n"u8);

        error.ShouldBeNull();
        message!.Ready.ShouldBeTrue();
        message.Watchdog.ShouldBeTrue();
        message.Status.ShouldBe("Processing requests: 5 = busy");
        message.Stopping.ShouldBeFalse();
        message.Assignments.Select(a => a.Key).ShouldBe(["READY", "STATUS", "MAINPID", "WATCHDOG"]);
    }

    [Theory]
    [InlineData("STOPPING=1", "Stopping")]
    [InlineData("RELOADING=1", "Reloading")]
    [InlineData("BARRIER=1", "Barrier")]
    public void Parse_KnowsTheOtherWords(string text, string word)
    {
        var message = NotifyMessage.Parse(Encoding.UTF8.GetBytes(text)).Message!;

        new Dictionary<string, bool> { ["Stopping"] = message.Stopping, ["Reloading"] = message.Reloading, ["Barrier"] = message.Barrier }[word].ShouldBeTrue();
        message.Ready.ShouldBeFalse();
    }

    [Fact]
    public void Parse_TakesAnEmptyStatus_AndReadyOnlyAsOne()
    {
        var message = NotifyMessage.Parse("STATUS=\nREADY=0"u8).Message!;

        message.Status.ShouldBe("");
        message.Ready.ShouldBeFalse();
    }

    [Theory]
    [InlineData(new byte[0], "empty datagram")]
    [InlineData(new byte[] { 0xff, 0xfe, (byte)'A', (byte)'=', (byte)'1' }, "not UTF-8")]
    [InlineData(new byte[] { (byte)'A', (byte)'=', 0, (byte)'1' }, "NUL byte")]
    [InlineData(new byte[] { (byte)'R', (byte)'E', (byte)'A', (byte)'D', (byte)'Y' }, "a line that is not KEY=VALUE")]
    [InlineData(new byte[] { (byte)'r', (byte)'=', (byte)'1' }, "a line that is not KEY=VALUE")]
    [InlineData(new byte[] { (byte)'=', (byte)'1' }, "a line that is not KEY=VALUE")]
    [InlineData(new byte[] { (byte)'\n', (byte)'\n' }, "no assignment")]
    public void Parse_RefusesAMalformedDatagram_Whole(byte[] datagram, string why)
    {
        var (message, error) = NotifyMessage.Parse(datagram);

        message.ShouldBeNull();
        error.ShouldBe(why);
    }

    [Fact]
    public void Parse_RefusesMoreThan4096Bytes_AndTakes4096()
    {
        var status = Encoding.ASCII.GetBytes("STATUS=");
        NotifyMessage.Parse([.. status, .. Enumerable.Repeat((byte)'x', NotifyMessage.MaxBytes - status.Length)]).Message.ShouldNotBeNull();
        NotifyMessage.Parse([.. status, .. Enumerable.Repeat((byte)'x', NotifyMessage.MaxBytes + 1 - status.Length)]).Error.ShouldBe("longer than 4096 bytes");
    }

    [Theory]
    [InlineData("42 (sh) S 7 42 42 0 -1", 7, 42)]
    [InlineData("43 (my (odd) name) R 42 40 40 0", 42, 40)]
    public void ParseStat_ReadsTheParentAndProcessGroup_AfterTheCommand(string stat, int parent, int group)
    {
        var parsed = ProcStat.Parse(Encoding.ASCII.GetBytes(stat)).ShouldNotBeNull();
        (parsed.Parent, parsed.Group).ShouldBe((parent, group));
    }

    [Fact]
    public void Read_FindsThisProcess_ItsGroupAndParents()
    {
        var self = NotifySender.Read(Environment.ProcessId, 0);

        self.ProcessGroup.ShouldNotBeNull();
        self.Parents.ShouldNotBeEmpty();
        self.IsFrom(self.Parents[0]).ShouldBeTrue();
        NotifySender.Read(int.MaxValue, 0).ProcessGroup.ShouldBeNull();
    }
}
