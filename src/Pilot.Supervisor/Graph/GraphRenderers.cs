using System.Globalization;
using System.Text;

namespace Pilot.Supervisor.Graph;

/// <summary>The text formats <c>pilot graph -format</c> writes.</summary>
public enum GraphFormat { Dot, Mermaid }

/// <summary>
/// Draws a <see cref="JobGraph"/> as Graphviz DOT or a Mermaid flowchart. The same graph always gives the same text
/// (config order, no hash order, no time), so a picture made from it can be checked in and compared.
/// </summary>
/// <remarks>
/// The legend both formats follow: jobs are rounded boxes (their health check, port and restarts under the name),
/// <c>global</c> an ellipse, signals hexagons, watches cylinders; a solid arrow starts a job (labelled
/// <c>once|each: event</c>, <c>timeout</c> on a second line), a dashed one is a pre-/post-stop job, a dotted grey one
/// a shutdown dependency; what a trap keeps from starting is red, and every trap is listed as a comment at the end.
/// </remarks>
public static class GraphRenderers
{
    public static bool TryParseFormat(string text, out GraphFormat format)
    {
        switch (text.ToLowerInvariant())
        {
            case "dot" or "graphviz":
                format = GraphFormat.Dot;
                return true;
            case "mermaid":
                format = GraphFormat.Mermaid;
                return true;
            default:
                format = default;
                return false;
        }
    }

    public static string Render(JobGraph graph, GraphFormat format) =>
        format == GraphFormat.Mermaid ? Mermaid(graph) : Dot(graph);

    private const string TrapColor = "#c62828";

    public static string Dot(JobGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var text = new StringBuilder();
        text.Append("digraph pilot {\n");
        text.Append("  rankdir=LR;\n");
        text.Append("  node [fontname=\"Helvetica\", fontsize=11];\n");
        text.Append("  edge [fontname=\"Helvetica\", fontsize=9];\n");
        foreach (var node in graph.Nodes)
        {
            var (shape, style) = node.Kind switch
            {
                GraphNodeKind.Global => ("ellipse", "filled"),
                GraphNodeKind.Signal => ("hexagon", "filled"),
                GraphNodeKind.Watch => ("cylinder", "solid"),
                GraphNodeKind.Missing => ("box", "dashed"),
                _ => ("box", "rounded"),
            };
            text.Append("  ").Append(DotId(node.Id)).Append(" [shape=").Append(shape).Append(", style=\"").Append(style).Append('"');
            if (node.Kind is GraphNodeKind.Global or GraphNodeKind.Signal)
            {
                text.Append(", fillcolor=\"#eeeeee\"");
            }
            if (node.IsTrap)
            {
                text.Append(", color=\"").Append(TrapColor).Append("\", fontcolor=\"").Append(TrapColor).Append('"');
            }
            text.Append(", label=").Append(DotId(NodeLabel(node))).Append("];\n");
        }
        foreach (var edge in graph.Edges)
        {
            text.Append("  ").Append(DotId(edge.From)).Append(" -> ").Append(DotId(edge.To)).Append(" [label=").Append(DotId(edge.Label));
            switch (edge.Kind)
            {
                case GraphEdgeKind.PreStop or GraphEdgeKind.PostStop:
                    text.Append(", style=dashed");
                    break;
                case GraphEdgeKind.StopsAfter:
                    text.Append(", style=dotted, color=\"#757575\", fontcolor=\"#757575\", constraint=false");
                    break;
            }
            if (edge.IsTrap)
            {
                text.Append(", color=\"").Append(TrapColor).Append("\", fontcolor=\"").Append(TrapColor).Append('"');
            }
            text.Append("];\n");
        }
        foreach (var trap in graph.Traps)
        {
            text.Append("  // trap (").Append(TrapName(trap.Kind)).Append("): ").Append(OneLine(trap.Message)).Append('\n');
        }
        text.Append("}\n");
        return text.ToString();
    }

    public static string Mermaid(JobGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var ids = graph.Nodes.Select((node, index) => (node.Id, index))
            .ToDictionary(p => p.Id, p => "n" + p.index.ToString(CultureInfo.InvariantCulture), StringComparer.Ordinal);
        var text = new StringBuilder();
        text.Append("flowchart LR\n");
        foreach (var node in graph.Nodes)
        {
            var label = MermaidText(NodeLabel(node));
            var (open, close) = node.Kind switch
            {
                GraphNodeKind.Global => ("([", "])"),
                GraphNodeKind.Signal => ("{{", "}}"),
                GraphNodeKind.Watch => ("[(", ")]"),
                GraphNodeKind.Missing => ("[", "]"),
                _ => ("(", ")"),
            };
            text.Append("  ").Append(ids[node.Id]).Append(open).Append('"').Append(label).Append('"').Append(close).Append('\n');
        }
        var trapLinks = new List<int>();
        var stopLinks = new List<int>();
        foreach (var (edge, index) in graph.Edges.Select((e, i) => (e, i)))
        {
            var arrow = edge.Kind is GraphEdgeKind.Trigger ? "-->" : "-.->";
            text.Append("  ").Append(ids[edge.From]).Append(' ').Append(arrow).Append("|\"").Append(MermaidText(edge.Label)).Append("\"| ")
                .Append(ids[edge.To]).Append('\n');
            if (edge.IsTrap)
            {
                trapLinks.Add(index);
            }
            else if (edge.Kind == GraphEdgeKind.StopsAfter)
            {
                stopLinks.Add(index);
            }
        }
        var trapNodes = graph.Nodes.Where(n => n.IsTrap).Select(n => ids[n.Id]).ToList();
        if (trapNodes.Count > 0)
        {
            text.Append("  classDef trap stroke:").Append(TrapColor).Append(",color:").Append(TrapColor).Append(",stroke-width:2px\n");
            text.Append("  class ").Append(string.Join(',', trapNodes)).Append(" trap\n");
        }
        if (trapLinks.Count > 0)
        {
            text.Append("  linkStyle ").Append(string.Join(',', trapLinks)).Append(" stroke:").Append(TrapColor).Append(",color:").Append(TrapColor).Append('\n');
        }
        if (stopLinks.Count > 0)
        {
            text.Append("  linkStyle ").Append(string.Join(',', stopLinks)).Append(" stroke:#757575,stroke-dasharray:2 3\n");
        }
        foreach (var trap in graph.Traps)
        {
            text.Append("  %% trap (").Append(TrapName(trap.Kind)).Append("): ").Append(OneLine(trap.Message)).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>The kebab-case name of a trap kind, as the API and the comments write it.</summary>
    public static string TrapName(GraphTrapKind kind) => kind switch
    {
        GraphTrapKind.NoEvent => "no-event",
        GraphTrapKind.UnknownSource => "unknown-source",
        GraphTrapKind.NeverEmitted => "never-emitted",
        GraphTrapKind.Cycle => "cycle",
        _ => "starved",
    };

    public static bool TryParseTrapName(string name, out GraphTrapKind kind)
    {
        foreach (var candidate in Enum.GetValues<GraphTrapKind>())
        {
            if (TrapName(candidate) == name)
            {
                kind = candidate;
                return true;
            }
        }
        kind = default;
        return false;
    }

    private static string NodeLabel(GraphNode node)
    {
        var lines = new List<string> { node.Kind == GraphNodeKind.Missing ? $"\"{node.Label}\"" : node.Label };
        lines.AddRange(node.Details);
        if (node.Kind == GraphNodeKind.Missing)
        {
            lines.Add("(no such source)");
        }
        else if (node.IsTrap)
        {
            lines.Add("(never starts)");
        }
        return string.Join('\n', lines);
    }

    private static string DotId(string text)
    {
        var escaped = new StringBuilder(text.Length + 2).Append('"');
        foreach (var c in text)
        {
            _ = c switch
            {
                '"' => escaped.Append("\\\""),
                '\\' => escaped.Append("\\\\"),
                '\n' => escaped.Append("\\n"),
                _ => escaped.Append(c),
            };
        }
        return escaped.Append('"').ToString();
    }

    /// <summary>Mermaid's quoted text: entity codes for what would end or break it, <c>&lt;br/&gt;</c> for line breaks.</summary>
    private static string MermaidText(string text) => text
        .Replace("&", "#amp;", StringComparison.Ordinal)
        .Replace("\"", "#quot;", StringComparison.Ordinal)
        .Replace("<", "#lt;", StringComparison.Ordinal)
        .Replace(">", "#gt;", StringComparison.Ordinal)
        .Replace("\n", "<br/>", StringComparison.Ordinal);

    private static string OneLine(string text) => text.Replace('\n', ' ');
}
