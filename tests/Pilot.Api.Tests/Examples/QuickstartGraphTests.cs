using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Examples;

/// <summary>
/// The README's picture of the quickstart's job graph (issue 27, item 2) is what <c>scripts/draw-quickstart-graph</c>
/// makes now from <c>examples/quickstart.json5</c> with this Pilot and Graphviz: a stale picture fails here.
/// </summary>
public sealed class QuickstartGraphTests
{
    private const string CheckedInPath = "docs/quickstart-graph.svg";

    [Fact]
    public async Task QuickstartGraphSvg_DrawnAgain_IsTheCheckedInFile()
    {
        using var timeout = PilotProcess.Timeout();
        using var directory = new TempDirectory();
        var drawn = directory.File("quickstart-graph.svg");

        var run = await PilotProcess.RunProgramAsync(Path.Combine(Checkout.Root, "scripts", "draw-quickstart-graph"), [drawn], timeout.Token,
            new Dictionary<string, string> { ["PILOT_BIN"] = Checkout.PilotBinary() });

        run.ExitCode.ShouldBe(0, $"scripts/draw-quickstart-graph failed (Graphviz comes from `./scripts/install-deps test`):\n{run.Output}");
        var checkedIn = Path.Combine(Checkout.Root, CheckedInPath);
        if (Environment.GetEnvironmentVariable("PILOT_UPDATE_GRAPH") == "1")
        {
            File.Copy(drawn, checkedIn, overwrite: true);
        }
        (await File.ReadAllTextAsync(drawn, timeout.Token)).ShouldBe(await File.ReadAllTextAsync(checkedIn, timeout.Token),
            $"{CheckedInPath} is stale: run ./scripts/draw-quickstart-graph (or this test with PILOT_UPDATE_GRAPH=1) and commit it.");
        (await File.ReadAllTextAsync(drawn, timeout.Token)).ShouldContain("<title>web&#45;&gt;announce</title>");
    }
}
