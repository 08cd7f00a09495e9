using System.CommandLine;

namespace Pilot.Api.Cli;

/// <summary>What the command line asks for; the first match of v3's precedence wins.</summary>
public enum CliVerb { Run, Help, Version, Template, Validate, Reload, Maintenance, PutEnv, PutMetric, Ping }

/// <summary>A parsed command line. <see cref="ConfigPath"/> is the flag's value ("" when not given).</summary>
public sealed record CliInvocation
{
    public CliVerb Verb { get; init; }
    public string ConfigPath { get; init; } = "";
    public string OutPath { get; init; } = "";
    public string Maintenance { get; init; } = "";
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();
    public IReadOnlyDictionary<string, string> Metrics { get; init; } = new Dictionary<string, string>();
}

/// <summary>Either an invocation or a usage error (v3 prints the error and the usage, exit 2).</summary>
public sealed record CliParseResult(CliInvocation? Invocation, string? Error);

/// <summary>
/// ContainerPilot v3's flags (Go <c>flag</c> syntax: <c>-x</c> or <c>--x</c>, <c>-x value</c> or <c>-x=value</c>) on System.CommandLine.
/// </summary>
public static class PilotCommandLine
{
    private static readonly Option<string> Config = Flag<string>("config", "File path to JSON5 configuration file. Defaults to CONTAINERPILOT env var.");
    private static readonly Option<bool> Template = Flag<bool>("template", "Render template and quit.");
    private static readonly Option<string> Out = Flag<string>("out", "File path where to save rendered config file when '-template' is used. Defaults to stdout ('-').");
    private static readonly Option<bool> Validate = Flag<bool>("validate", "Validate the config, print every error and warning, and quit (exit 1 when invalid).");
    private static readonly Option<bool> Version = Flag<bool>("version", "Show version identifier and quit.");
    private static readonly Option<bool> Reload = Flag<bool>("reload", "Reload a Pilot process through its control socket.");
    private static readonly Option<string> Maintenance = Flag<string>("maintenance", "Toggle maintenance mode through the control socket. Options: '-maintenance enable' or '-maintenance disable'");
    private static readonly Option<string[]> PutEnv = Flag<string[]>("putenv", "Update the environment of a Pilot process through its control socket. Pass 'key=value'; 'key' alone sets it empty.");
    private static readonly Option<string[]> PutMetric = Flag<string[]>("putmetric", "Update metrics of a Pilot process through its control socket. Pass 'key=value'.");
    private static readonly Option<bool> Ping = Flag<bool>("ping", "Check that the control socket is up.");
    private static readonly Option<bool> Help = Flag<bool>("help", "Show this usage.", "-h");

    private static readonly Option[] All = [Config, Maintenance, Out, Ping, PutEnv, PutMetric, Reload, Template, Validate, Version];

    private static readonly RootCommand Root = CreateRoot();

    private static RootCommand CreateRoot()
    {
        var root = new RootCommand("Pilot: a container init and job supervisor (ContainerPilot v3 compatible).")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        // Go flags have no built-in --help/--version options, directives or response files.
        root.Options.Clear();
        root.Directives.Clear();
        foreach (var option in All)
        {
            root.Options.Add(option);
        }
        root.Options.Add(Help);
        return root;
    }

    private static Option<T> Flag<T>(string name, string description, params string[] extraAliases)
    {
        var option = new Option<T>("-" + name, ["--" + name, .. extraAliases]) { Description = description };
        if (typeof(T) == typeof(string[]))
        {
            // Repeatable flag, one value per occurrence: `-putenv A=1 -putenv B=2`.
            option.AllowMultipleArgumentsPerToken = false;
        }
        return option;
    }

    public static CliParseResult Parse(IReadOnlyList<string> args)
    {
        var result = Root.Parse(args, new ParserConfiguration { EnablePosixBundling = false, ResponseFileTokenReplacer = null });
        if (result.Errors.Count > 0)
        {
            return new(null, result.Errors[0].Message);
        }
        // Go's flag package rejects unknown flags; positional arguments are ignored.
        if (result.UnmatchedTokens.FirstOrDefault(t => t.StartsWith('-') && t.Length > 1) is { } unknown)
        {
            return new(null, $"flag provided but not defined: {unknown.Split('=')[0]}");
        }

        if (result.GetValue(Help))
        {
            return new(new CliInvocation { Verb = CliVerb.Help }, null);
        }
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in result.GetValue(PutEnv) ?? [])
        {
            // Pilot extension: `-putenv K` (no '=') sets K to an empty value, as the v3 docs promise.
            var at = pair.IndexOf('=', StringComparison.Ordinal);
            environment[at < 0 ? pair : pair[..at]] = at < 0 ? "" : pair[(at + 1)..];
        }
        var metrics = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in result.GetValue(PutMetric) ?? [])
        {
            var at = pair.IndexOf('=', StringComparison.Ordinal);
            if (at < 0)
            {
                return new(null, $"invalid value \"{pair}\" for flag -putmetric: flag value '{pair}' was not in the format 'key=val'");
            }
            metrics[pair[..at]] = pair[(at + 1)..];
        }

        var invocation = new CliInvocation
        {
            ConfigPath = result.GetValue(Config) ?? "",
            OutPath = result.GetValue(Out) ?? "",
            Maintenance = result.GetValue(Maintenance) ?? "",
            Environment = environment,
            Metrics = metrics,
        };
        // v3's precedence: version, template, reload, maintenance, putenv, putmetric, ping, run (validate: Pilot's, after template).
        var verb =
            result.GetValue(Version) ? CliVerb.Version
            : result.GetValue(Template) ? CliVerb.Template
            : result.GetValue(Validate) ? CliVerb.Validate
            : result.GetValue(Reload) ? CliVerb.Reload
            : invocation.Maintenance.Length > 0 ? CliVerb.Maintenance
            : environment.Count > 0 ? CliVerb.PutEnv
            : metrics.Count > 0 ? CliVerb.PutMetric
            : result.GetValue(Ping) ? CliVerb.Ping
            : CliVerb.Run;
        return new(invocation with { Verb = verb }, null);
    }

    /// <summary>Go <c>flag</c>-style usage text.</summary>
    public static string Usage(string program)
    {
        var text = new System.Text.StringBuilder();
        text.Append("Usage of ").Append(program).AppendLine(":");
        foreach (var option in All)
        {
            var kind = option.ValueType == typeof(bool) ? "" : option.ValueType == typeof(string) ? " string" : " value";
            text.Append("  ").Append(option.Name).AppendLine(kind);
            text.Append("    \t").AppendLine(option.Description);
        }
        return text.ToString();
    }
}
