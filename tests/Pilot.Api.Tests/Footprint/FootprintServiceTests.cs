using Microsoft.Extensions.Time.Testing;
using Pilot.Api.Footprint;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Logging;
using Shouldly;

namespace Pilot.Api.Tests.Footprint;

/// <summary>
/// The memory unit on a fake clock: its start-up release runs on a timer, where an exception would end Pilot (PID 1),
/// so a process without <c>/proc</c> gets one log line and a release that is off, never a crash.
/// </summary>
public sealed class FootprintServiceTests : IDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly StringWriter _text = new();
    private readonly LogWriter _log;
    private readonly string _directory = Directory.CreateTempSubdirectory("pilot-footprint-").FullName;

    public FootprintServiceTests() => _log = new LogWriter(new LoggingConfig { Level = LogLevel.Debug }, _time, _text);

    private int LinesSaying(string text) => _text.ToString().Split('\n').Count(l => l.Contains(text, StringComparison.Ordinal));

    [Fact]
    public async Task StartupRelease_WithoutProc_LogsOnceAndSwitchesOff_InsteadOfCrashing()
    {
        // Where /proc/self/smaps would be in a container that has no /proc.
        var pages = new ExecutablePages(_log, Path.Combine(_directory, "proc", "self", "smaps"));
        await using var footprint = new FootprintService(_time, _log, pages);
        await footprint.StartAsync(TestContext.Current.CancellationToken);

        // The fake clock runs the timer's callback here: an exception from it would fail the test.
        _time.Advance(FootprintService.StartupSettled);

        pages.IsOn.ShouldBeFalse();
        LinesSaying("memory: the executable's pages stay mapped").ShouldBe(1, _text.ToString());
        pages.Release().ShouldBe(0, "switched off: nothing is read any more");
        _time.Advance(TimeSpan.FromMinutes(1));
        LinesSaying("memory: the executable's pages stay mapped").ShouldBe(1, _text.ToString());
        await footprint.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public void Release_WithProc_AdvisesTheExecutablesMappings_AndStaysOn()
    {
        var pages = new ExecutablePages(_log, ExecutablePages.ProcessMappings);

        pages.Release().ShouldBeGreaterThan(0, "the test host's own executable is mapped");

        pages.IsOn.ShouldBeTrue();
        _text.ToString().ShouldNotContain("memory:");
    }

    [Fact]
    public void ThreadPoolMinimum_IsRaisedWhenTheUnitIsBuilt()
    {
        _ = new FootprintService(_time, _log, new ExecutablePages(_log, ExecutablePages.ProcessMappings));

        ThreadPool.GetMinThreads(out var workers, out var io);
        workers.ShouldBeGreaterThanOrEqualTo(FootprintService.MinimumPoolThreads);
        io.ShouldBeGreaterThanOrEqualTo(FootprintService.MinimumPoolThreads);
    }

    public void Dispose()
    {
        _log.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
