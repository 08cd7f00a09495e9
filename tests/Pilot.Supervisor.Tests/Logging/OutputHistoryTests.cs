using Pilot.Supervisor.Logging;
using Pilot.Supervisor.Processes;
using Shouldly;

namespace Pilot.Supervisor.Tests.Logging;

public sealed class OutputHistoryTests
{
    private static OutputLine Line(string source, string text, int pid = 42) => new(source, pid, IsStdErr: false, text);

    [Fact]
    public void Tail_MergesTheJobAndItsCheck_InWriteOrder_KeepingTheLastLines()
    {
        var history = new OutputHistory(capacity: 10);
        history.Add(Line("app", "a1"));
        history.Add(Line("check.app", "c1"));
        history.Add(Line("other", "o1"));
        history.Add(Line("app", "a2"));

        history.Tail("app", 10).Select(l => $"{l.Source}:{l.Text}").ShouldBe(["app:a1", "check.app:c1", "app:a2"]);
        history.Tail("app", 2).Select(l => l.Text).ShouldBe(["c1", "a2"]);
        history.Tail("app", 0).ShouldBeEmpty();
        history.Tail("nobody", 10).ShouldBeEmpty();
    }

    [Fact]
    public void Add_DropsTheOldestLines_BeyondCapacityPerSource()
    {
        var history = new OutputHistory(capacity: 3);
        for (var i = 1; i <= 5; i++)
        {
            history.Add(Line("app", $"a{i}"));
        }
        history.Add(Line("check.app", "c1"));

        history.Tail("app", 100).Select(l => l.Text).ShouldBe(["a3", "a4", "a5", "c1"]);
    }

    [Fact]
    public void Add_DropsTheOldestLines_BeyondTheCharacterBound()
    {
        var history = new OutputHistory(capacity: 1000);
        var big = new string('x', OutputHistory.MaxCharsPerSource / 2);
        history.Add(Line("app", "first"));
        history.Add(Line("app", big));
        history.Add(Line("app", big));

        history.Tail("app", 1000).Count.ShouldBe(2);
    }

    [Fact]
    public void Resize_ShrinksEveryRing_AndZeroKeepsNothing()
    {
        var history = new OutputHistory(capacity: 5);
        for (var i = 1; i <= 5; i++)
        {
            history.Add(Line("app", $"a{i}"));
        }

        history.Resize(2);
        history.Tail("app", 10).Select(l => l.Text).ShouldBe(["a4", "a5"]);

        history.Resize(0);
        history.Add(Line("app", "a6"));
        history.Tail("app", 10).ShouldBeEmpty();
    }

    [Fact]
    public async Task Follow_ReplaysTheTail_ThenStreamsLaterLinesOfThatJobOnly()
    {
        var history = new OutputHistory(capacity: 10);
        history.Add(Line("app", "before-1"));
        history.Add(Line("app", "before-2"));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await using var lines = history.FollowAsync("app", 1, timeout.Token).GetAsyncEnumerator(timeout.Token);

        (await lines.MoveNextAsync()).ShouldBeTrue();
        lines.Current.Text.ShouldBe("before-2");
        var next = lines.MoveNextAsync();
        history.Add(Line("other", "not-mine"));
        history.Add(Line("check.app", "after"));

        (await next).ShouldBeTrue();
        lines.Current.Source.ShouldBe("check.app");
        lines.Current.Text.ShouldBe("after");
    }
}
