using Pilot.Supervisor.Graph;
using Pilot.Supervisor.Tests.Config;
using Shouldly;

namespace Pilot.Supervisor.Tests.Graph;

/// <summary>The job graph of a config (issue 27, item 2) as a pure function: nodes, edges, traps, and the drawn text.</summary>
public sealed class JobGraphTests
{
    private static JobGraph GraphOf(string jobs, string extra = "") =>
        JobGraphBuilder.Build(ConfigText.Valid($$"""{ {{extra}} jobs: [ {{jobs}} ] }"""));

    private static string Edges(JobGraph graph) =>
        string.Join("; ", graph.Edges.Select(e => $"{e.From}->{e.To}:{e.Kind}:{e.Label.Replace('\n', '/')}{(e.IsTrap ? "!" : "")}"));

    [Fact]
    public void Build_DrawsAnEdgePerWhen_WithImplicitStartupAndPeriodicTicks()
    {
        var graph = GraphOf("""
            { name: "db", exec: "db", health: { exec: "true", interval: 2, ttl: 5 } },
            { name: "app", exec: "app", when: { source: "db", once: "healthy", timeout: "30s" } },
            { name: "alert", exec: "alert", when: { source: "check.db", each: "exitFailed" } },
            { name: "tick", exec: "tick", when: { interval: "10s" } },
            { name: "backup", exec: "backup", when: { cron: "@daily" } },
            { name: "reload", exec: "reload", when: { source: "SIGHUP" } },
            { name: "upstreams", exec: "render", when: { source: "watch.api", each: "changed" } },
            """, """watches: [{ name: "api", interval: 5 }], consul: "localhost:8500",""");

        Edges(graph).ShouldBe(string.Join("; ",
            "global->db:Trigger:startup",
            "db->app:Trigger:once: healthy/timeout 30s",
            "db->alert:Trigger:each: exitFailed (check)",
            "global->tick:Trigger:every 10s",
            "global->backup:Trigger:cron @daily",
            "SIGHUP->reload:Trigger:each: SIGHUP",
            "watch.api->upstreams:Trigger:each: changed"));
        graph.Nodes.Select(n => $"{n.Id}:{n.Kind}").ShouldBe(
            ["global:Global", "SIGHUP:Signal", "db:Job", "app:Job", "alert:Job", "tick:Job", "backup:Job", "reload:Job", "upstreams:Job", "watch.api:Watch"]);
        graph.Nodes.Single(n => n.Id == "db").Details.ShouldBe(["health: exec every 2s"]);
        graph.Traps.ShouldBeEmpty();
    }

    [Fact]
    public void Build_MarksPreStopAndPostStopJobs_AndShutdownDependencies()
    {
        var graph = GraphOf("""
            { name: "db", exec: "db" },
            { name: "app", exec: "app", when: { source: "db", once: "exitSuccess" } },
            { name: "dump", exec: "dump", when: { source: "db", once: "stopping" } },
            { name: "notify", exec: "notify", when: { source: "db", each: "stopped" } },
            """, """shutdownOrder: "dependencies",""");

        Edges(graph).ShouldBe(string.Join("; ",
            "global->db:Trigger:startup",
            "db->app:Trigger:once: exitSuccess",
            "db->dump:PreStop:pre-stop (once: stopping)",
            "db->notify:PostStop:post-stop (each: stopped)",
            "db->app:StopsAfter:stops after"));
        graph.Traps.ShouldBeEmpty();
    }

    [Fact]
    public void Build_WithoutOrderedShutdown_HasNoShutdownEdges()
    {
        GraphOf("""{ name: "db", exec: "db" }, { name: "app", exec: "app", when: { source: "db", once: "exitSuccess" } },""")
            .Edges.ShouldNotContain(e => e.Kind == GraphEdgeKind.StopsAfter);
    }

    [Fact]
    public void Build_FindsEveryKindOfTrap_AndMarksWhatTheyKeepFromStarting()
    {
        var graph = GraphOf("""
            { name: "web", exec: "web" },
            { name: "announce", exec: "a", when: { source: "web", once: "healthy" } },
            { name: "typo", exec: "t", when: { source: "consol", once: "exitSuccess" } },
            { name: "never", exec: "n", when: { source: "web" } },
            { name: "ping", exec: "p", when: { source: "pong", once: "exitSuccess" } },
            { name: "pong", exec: "p", when: { source: "ping", once: "exitSuccess" } },
            { name: "after", exec: "x", when: { source: "announce", once: "exitSuccess" } },
            { name: "oops", exec: "o", when: { source: "web", once: "error" } },
            { name: "fine", exec: "f", when: { source: "web", each: "exitFailed" } },
            """);

        graph.Traps.Select(t => $"{t.Job}:{t.Kind}").ShouldBe(
            ["announce:NeverEmitted", "typo:UnknownSource", "never:NoEvent", "oops:NeverEmitted", "ping:Cycle", "pong:Cycle", "after:Starved"],
            ignoreOrder: true);
        graph.Traps.Single(t => t.Job == "announce").Message.ShouldBe(
            "job announce: waits for \"healthy\" from \"web\", which never comes: web has no health check (health.exec, http or tcp)");
        graph.Traps.Single(t => t.Job == "ping").Message.ShouldContain("ping → pong → ping");
        graph.Traps.Single(t => t.Job == "after").Message.ShouldContain("\"announce\", which never starts");
        graph.Nodes.Where(n => n.IsTrap).Select(n => n.Id).ShouldBe(["announce", "typo", "never", "ping", "pong", "after", "oops", "consol"], ignoreOrder: true);
        graph.Nodes.Single(n => n.Id == "consol").Kind.ShouldBe(GraphNodeKind.Missing);
        graph.Edges.Where(e => e.IsTrap).Select(e => e.To).ShouldBe(["announce", "typo", "oops"], ignoreOrder: true);
    }

    [Fact]
    public void Build_AJobTriggeredByItsOwnEvent_IsACycleOfOne()
    {
        GraphOf("""{ name: "loop", exec: "l", when: { source: "loop", each: "exitSuccess" } },""")
            .Traps.ShouldHaveSingleItem().Kind.ShouldBe(GraphTrapKind.Cycle);
    }

    [Fact]
    public void Build_AddsTheTelemetryJob_AsPilotRunsIt()
    {
        var graph = GraphOf("""{ name: "app", exec: "app" },""", """telemetry: { port: 9090, interfaces: ["static:127.0.0.1"] },""");

        graph.Nodes.Single(n => n.Id == "containerpilot").Details.ShouldBe(["telemetry", "port 9090"]);
    }

    [Fact]
    public void Dot_IsDeterministic_AndDrawsTrapsRed()
    {
        const string jobs = """
            { name: "web", exec: "web", health: { http: "http://127.0.0.1:1/", interval: 2, ttl: 5 } },
            { name: "announce", exec: "a", when: { source: "web", once: "healthy" } },
            { name: "typo", exec: "t", when: { source: "we\"b", once: "exitSuccess" } },
            """;
        var dot = GraphRenderers.Dot(GraphOf(jobs));

        dot.ShouldBe(GraphRenderers.Dot(GraphOf(jobs)));
        dot.ShouldStartWith("digraph pilot {\n  rankdir=LR;\n");
        dot.ShouldContain("\"web\" -> \"announce\" [label=\"once: healthy\"];");
        dot.ShouldContain("\"we\\\"b\" [shape=box, style=\"dashed\", color=\"#c62828\", fontcolor=\"#c62828\", label=\"\\\"we\\\"b\\\"\\n(no such source)\"];");
        dot.ShouldContain("\"we\\\"b\" -> \"typo\" [label=\"once: exitSuccess\", color=\"#c62828\", fontcolor=\"#c62828\"];");
        dot.ShouldContain("  // trap (unknown-source): job typo: when.source \"we\"b\" is not a job");
        dot.ShouldEndWith("}\n");
    }

    [Fact]
    public void Mermaid_UsesNodeIndexes_EscapesQuotes_AndStylesTraps()
    {
        var mermaid = GraphRenderers.Mermaid(GraphOf("""
            { name: "web", exec: "web" },
            { name: "announce", exec: "a", when: { source: "web", once: "healthy", timeout: "1m" } },
            { name: "bye", exec: "b", when: { source: "web", once: "stopping" } },
            """));

        mermaid.Split('\n').ShouldBe([
            "flowchart LR",
            "  n0([\"global\"])",
            "  n1(\"web\")",
            "  n2(\"announce<br/>(never starts)\")",
            "  n3(\"bye\")",
            "  n0 -->|\"startup\"| n1",
            "  n1 -->|\"once: healthy<br/>timeout 1m0s\"| n2",
            "  n1 -.->|\"pre-stop (once: stopping)\"| n3",
            "  classDef trap stroke:#c62828,color:#c62828,stroke-width:2px",
            "  class n2 trap",
            "  linkStyle 1 stroke:#c62828,color:#c62828",
            "  %% trap (never-emitted): job announce: waits for \"healthy\" from \"web\", which never comes: web has no health check (health.exec, http or tcp)",
            "",
        ]);
    }
}
