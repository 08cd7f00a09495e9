using Microsoft.Extensions.Time.Testing;
using Pilot.Api.Footprint;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Logging;
using Shouldly;

namespace Pilot.Api.Tests.Footprint;

/// <summary>The trimmer wakes only while there is something to give back: it rests when quiet and a collection wakes it.</summary>
public sealed class IdleHeapTrimmerTests
{
    [Fact]
    public async Task Trimmer_StopsTickingWhenQuiet_AndACollectionStartsItAgain()
    {
        var time = new FakeTimeProvider();
        var log = new LogWriter(new LoggingConfig(), time, TextWriter.Null);
        await using var trimmer = new IdleHeapTrimmer(time, log, new ExecutablePages(log, ExecutablePages.ProcessMappings));
        trimmer.Start();
        trimmer.IsTicking.ShouldBeTrue();

        // Other tests allocate in this process meanwhile: a period may look busy, and a collection may wake it again.
        for (var period = 0; period < 100 && trimmer.IsTicking; period++)
        {
            time.Advance(IdleHeapTrimmer.Period);
        }
        trimmer.IsTicking.ShouldBeFalse();

        GC.Collect();
        GC.WaitForPendingFinalizers();
        trimmer.IsTicking.ShouldBeTrue();
    }
}
