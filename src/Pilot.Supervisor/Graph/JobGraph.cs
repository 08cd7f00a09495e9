using System.Collections.Immutable;

namespace Pilot.Supervisor.Graph;

// The job graph of a config (`pilot graph`, GET /v3/graph): what starts each job and what holds each stop, as data.
// Built by JobGraphBuilder from a PilotConfig, drawn by DotRenderer and MermaidRenderer. Node and edge order follow the
// config, so the same config always gives the same text.

/// <summary>What a node stands for.</summary>
public enum GraphNodeKind
{
    /// <summary>A job of the config (or the <c>containerpilot</c> job <c>telemetry</c> adds).</summary>
    Job,
    /// <summary>A Consul watch: source <c>watch.NAME</c>.</summary>
    Watch,
    /// <summary>A signal sent to Pilot: <c>SIGHUP</c>, <c>SIGUSR2</c>.</summary>
    Signal,
    /// <summary>Pilot itself (<c>global</c>): <c>startup</c>, <c>shutdown</c>, maintenance.</summary>
    Global,
    /// <summary>A <c>when.source</c> that names nothing: a trap.</summary>
    Missing,
}

/// <summary>What an edge means.</summary>
public enum GraphEdgeKind
{
    /// <summary>A <c>when</c>: the event of <c>From</c> starts <c>To</c> (also the implicit start at startup and periodic ticks).</summary>
    Trigger,
    /// <summary>A pre-stop job: <c>To</c> runs at each <c>stopping</c> of <c>From</c>, which waits for it before its signal.</summary>
    PreStop,
    /// <summary>A post-stop job: <c>To</c> runs at each <c>stopped</c> of <c>From</c>.</summary>
    PostStop,
    /// <summary><c>shutdownOrder: "dependencies"</c>: on shutdown <c>From</c> stops only after <c>To</c> has stopped.</summary>
    StopsAfter,
}

/// <summary>The kinds of trap: a <c>when</c> that can never fire (docs/configuration.md, "pilot graph").</summary>
public enum GraphTrapKind
{
    /// <summary><c>when</c> names neither <c>once</c> nor <c>each</c> (nor an interval or cron): the job never starts.</summary>
    NoEvent,
    /// <summary><c>when.source</c> is no job, health check, watch, signal or <c>global</c>.</summary>
    UnknownSource,
    /// <summary>The source exists but never publishes that event (e.g. <c>healthy</c> from a job without a health check).</summary>
    NeverEmitted,
    /// <summary>Jobs that can only be started by each other: none of them ever starts.</summary>
    Cycle,
    /// <summary>The job waits for a job that itself never starts.</summary>
    Starved,
}

/// <summary>A trap: which job it keeps from starting (<see cref="Job"/>), and why, in one sentence.</summary>
public sealed record GraphTrap(GraphTrapKind Kind, string Job, string Message);

/// <summary>A node; <see cref="Details"/> are short facts drawn under the name (<c>health: http</c>, <c>every 10s</c>).</summary>
public sealed record GraphNode(string Id, GraphNodeKind Kind, string Label)
{
    public ImmutableArray<string> Details { get; init; } = [];
    /// <summary>Set when a trap keeps this job from starting (or when this is a missing source).</summary>
    public bool IsTrap { get; init; }
}

/// <summary>
/// An edge. For a trigger: <see cref="Event"/> is the config name (<c>healthy</c>, <c>stopping</c>, <c>startup</c>…, or
/// <c>interval</c>/<c>cron</c> for periodic jobs), <see cref="Each"/> says <c>each</c> rather than <c>once</c>,
/// <see cref="FromCheck"/> that the source is the job's health check (<c>check.NAME</c>).
/// </summary>
public sealed record GraphEdge(string From, string To, GraphEdgeKind Kind)
{
    public string Event { get; init; } = "";
    public bool Each { get; init; }
    public bool FromCheck { get; init; }
    /// <summary><c>when.timeout</c>, a Go duration; null without one.</summary>
    public string? Timeout { get; init; }
    /// <summary>Periodic jobs: <c>every 10s</c>, <c>cron 0 * * * *</c>.</summary>
    public string? Schedule { get; init; }
    /// <summary>Set when this edge can never fire.</summary>
    public bool IsTrap { get; init; }

    /// <summary>The edge's text: <c>once: healthy</c>, <c>each: exitFailed (check)</c>, <c>pre-stop</c>, <c>timeout 30s</c> on a second line.</summary>
    public string Label => Kind switch
    {
        GraphEdgeKind.StopsAfter => "stops after",
        GraphEdgeKind.PreStop => Join($"pre-stop ({(Each ? "each" : "once")}: stopping)"),
        GraphEdgeKind.PostStop => Join($"post-stop ({(Each ? "each" : "once")}: stopped)"),
        _ when Schedule is not null => Schedule,
        _ when Event == "startup" && From == "global" && !Each && Timeout is null => "startup",
        _ => Join($"{(Each ? "each" : "once")}: {Event}{(FromCheck ? " (check)" : "")}"),
    };

    private string Join(string text) => Timeout is null ? text : text + "\ntimeout " + Timeout;
}

/// <summary>The whole graph: nodes and edges in config order, and every trap found.</summary>
public sealed record JobGraph(ImmutableArray<GraphNode> Nodes, ImmutableArray<GraphEdge> Edges, ImmutableArray<GraphTrap> Traps);
