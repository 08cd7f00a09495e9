using System.Collections.Immutable;

namespace Pilot.Supervisor.Config;

/// <summary>One problem in a config: where (<c>jobs[2].when.interval</c>, and the file line when known) and what.</summary>
public sealed record ConfigError(string Path, string Message, int? Line = null)
{
    public override string ToString() =>
        (Path.Length == 0 ? "" : Path + ": ") + Message + (Line is { } line ? $" (line {line})" : "");
}

/// <summary>The outcome of loading a config: either a config (maybe with warnings) or every error found.</summary>
public sealed record ConfigResult(PilotConfig? Config, ImmutableArray<ConfigError> Errors)
{
    public bool IsValid => Config is not null && Errors.IsEmpty;
}

/// <summary>File → template → JSON5 → records → validation, as ContainerPilot v3 reads a config.</summary>
public static partial class ConfigLoader
{
    /// <summary>Renders the config text as a Go template with the environment (for <c>-template</c>).</summary>
    public static string Render(string text, IReadOnlyDictionary<string, string> environment) =>
        throw new NotImplementedException("filled in by the config work");

    /// <summary>Renders, parses and validates config text.</summary>
    public static ConfigResult Parse(string text, IReadOnlyDictionary<string, string> environment) =>
        throw new NotImplementedException("filled in by the config work");

    /// <summary>Reads the file at <paramref name="path"/> then <see cref="Parse"/>; a read failure is an error, not an exception.</summary>
    public static ConfigResult LoadFile(string path, IReadOnlyDictionary<string, string> environment) =>
        throw new NotImplementedException("filled in by the config work");
}
