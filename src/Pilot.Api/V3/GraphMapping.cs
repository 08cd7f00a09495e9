using Pilot.Supervisor.Graph;

namespace Pilot.Api.V3;

/// <summary>The job graph to the wire (<c>GET /v3/graph</c>) and back (<c>pilot graph</c> draws what a running Pilot sends).</summary>
public static class GraphMapping
{
    public static GraphResponse ToResponse(this JobGraph graph) => new(
        [.. graph.Nodes.Select(n => new GraphNodeResponse
        {
            Id = n.Id,
            Kind = Camel(n.Kind.ToString()),
            Label = n.Label,
            Details = [.. n.Details],
            Trap = n.IsTrap,
        })],
        [.. graph.Edges.Select(e => new GraphEdgeResponse
        {
            From = e.From,
            To = e.To,
            Kind = Camel(e.Kind.ToString()),
            Event = e.Kind == GraphEdgeKind.StopsAfter ? null : e.Event,
            Each = e.Each,
            Check = e.FromCheck,
            Timeout = e.Timeout,
            Schedule = e.Schedule,
            Trap = e.IsTrap,
            Label = e.Label,
        })],
        [.. graph.Traps.Select(t => new GraphTrapResponse(GraphRenderers.TrapName(t.Kind), t.Job, t.Message))]);

    /// <summary>The graph a running Pilot sent; an unknown kind (a newer Pilot) is drawn as the nearest one.</summary>
    public static JobGraph ToGraph(this GraphResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return new JobGraph(
            [.. response.Nodes.Select(n => new GraphNode(n.Id, Parse(n.Kind, GraphNodeKind.Job), n.Label) { Details = [.. n.Details], IsTrap = n.Trap })],
            [.. response.Edges.Select(e => new GraphEdge(e.From, e.To, Parse(e.Kind, GraphEdgeKind.Trigger))
            {
                Event = e.Event ?? "",
                Each = e.Each,
                FromCheck = e.Check,
                Timeout = e.Timeout,
                Schedule = e.Schedule,
                IsTrap = e.Trap,
            })],
            [.. response.Traps.Select(t => new GraphTrap(
                GraphRenderers.TryParseTrapName(t.Kind, out var kind) ? kind : GraphTrapKind.Starved, t.Job, t.Message))]);
    }

    private static T Parse<T>(string text, T fallback) where T : struct, Enum =>
        Enum.TryParse<T>(text, ignoreCase: true, out var value) ? value : fallback;

    private static string Camel(string name) =>
        name.Length == 0 ? name : string.Concat(char.ToLowerInvariant(name[0]).ToString(), name.AsSpan(1));
}
