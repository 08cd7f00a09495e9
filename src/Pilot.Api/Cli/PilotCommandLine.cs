using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text;

namespace Pilot.Api.Cli;

/// <summary>What the command line asks for: a v3 flag (the first match of v3's precedence wins) or one of Pilot's commands.</summary>
public enum CliVerb
{
    Run, Help, Version, Template, Validate, Reload, Maintenance, PutEnv, PutMetric, Ping,
    /// <summary>Pilot's commands, each a client of one control-plane endpoint.</summary>
    Status, Logs, Stop, Start, Restart, Events,
    /// <summary>Issue 27: the job graph (from the config file or the running Pilot), what a job waits for, a live cost table.</summary>
    Graph, Why, Top,
    /// <summary><c>pilot help [COMMAND]</c> or <c>pilot COMMAND -h</c>: usage on stdout, exit 0 (<see cref="Help"/> is v3's <c>-h</c>, exit 2).</summary>
    CommandHelp,
}

/// <summary>A parsed command line. <see cref="ConfigPath"/> is the flag's value ("" when not given).</summary>
public sealed record CliInvocation
{
    public CliVerb Verb { get; init; }
    public string ConfigPath { get; init; } = "";
    public string OutPath { get; init; } = "";
    public string Maintenance { get; init; } = "";
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();
    public IReadOnlyDictionary<string, string> Metrics { get; init; } = new Dictionary<string, string>();
    /// <summary>The job of logs/stop/start/restart, the source filter of events, the command of help ("" = none).</summary>
    public string Target { get; init; } = "";
    /// <summary><c>-json</c> of status and events: the control plane's JSON, for scripts.</summary>
    public bool Json { get; init; }
    /// <summary><c>-f</c> of logs.</summary>
    public bool Follow { get; init; }
    /// <summary><c>-n</c> of logs (null: the server's default).</summary>
    public int? Lines { get; init; }
    /// <summary><c>-socket</c> of Pilot's commands: the control socket to use, whatever the config says ("" = find it).</summary>
    public string SocketPath { get; init; } = "";
    /// <summary><c>-format</c> of graph: <c>dot</c> or <c>mermaid</c>.</summary>
    public Supervisor.Graph.GraphFormat GraphFormat { get; init; }
    /// <summary><c>-config</c> was given on the command line (graph draws that file instead of asking the running Pilot).</summary>
    public bool ConfigGiven { get; init; }
    /// <summary><c>-n</c> of top: how many screens to print before exiting (null: until interrupted).</summary>
    public int? Iterations { get; init; }
    /// <summary><c>-d</c> of top: the time between screens.</summary>
    public TimeSpan Delay { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary><c>-dev-http</c>: the opt-in plain-HTTP listener of the run path (null: none).</summary>
    public Control.DevListener? DevListener { get; init; }
}

/// <summary>
/// Either an invocation or a usage error (exit 2): a v3 flag error is printed with the usage, as Go's flag package does;
/// Pilot's own (<see cref="Brief"/>: a bad command word or command argument) with a pointer to <c>pilot help</c>.
/// </summary>
public sealed record CliParseResult(CliInvocation? Invocation, string? Error, string UsageOf = "", bool Brief = false);

/// <summary>
/// ContainerPilot v3's flags (Go <c>flag</c> syntax: <c>-x</c> or <c>--x</c>, <c>-x value</c> or <c>-x=value</c>) and Pilot's
/// commands (<c>pilot status</c>, <c>pilot logs JOB</c>, …) on System.CommandLine. A word that is not a command is an error:
/// it never starts a supervisor.
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
    private static readonly Option<string> DevHttp = Flag<string>(Control.DevListener.FlagName[1..],
        "Development only: also serve the control plane, its OpenAPI document and Swagger UI (/swagger) over plain HTTP on HOST:PORT "
        + "(e.g. 127.0.0.1:8088). No authentication: anyone who can reach it controls Pilot. Off by default.");

    /// <summary>v3's flags, in its usage order; all but <c>-config</c> ask for an action of their own.</summary>
    private static readonly Option[] All = [Config, DevHttp, Maintenance, Out, Ping, PutEnv, PutMetric, Reload, Template, Validate, Version];

    /// <summary>Pilot's commands: name, verb, arguments as usage shows them, what it does, its own flags.</summary>
    private sealed record CommandSpec(string Name, CliVerb Verb, string Arguments, string Summary, Option[] Options, Argument<string>? Argument)
    {
        public Command Command { get; } = Create(Name, Summary, Options, Argument);

        private static Command Create(string name, string summary, Option[] options, Argument<string>? argument)
        {
            var command = new Command(name, summary) { TreatUnmatchedTokensAsErrors = false };
            foreach (var option in options)
            {
                command.Options.Add(option);
            }
            command.Options.Add(Flag<bool>("help", "Show this command's usage.", "-h"));
            if (argument is not null)
            {
                command.Arguments.Add(argument);
            }
            return command;
        }

        public Option<bool> HelpOption => (Option<bool>)Command.Options.Single(o => o.Name == "-help");
    }

    private static readonly Option<bool> StatusJson = Flag<bool>("json", "Print the control plane's JSON (GET /v3/status) instead of tables.");
    private static readonly Option<bool> EventsJson = Flag<bool>("json", "Print each event's JSON as the stream sends it.");
    private static readonly Option<bool> Follow = Flag<bool>("f", "Follow: keep printing new lines until interrupted.", "--follow");
    private static readonly Option<string> Socket = Flag<string>("socket",
        "The control socket of the running Pilot (default: $" + SocketVariable + ", else control.socket of -config or CONTAINERPILOT, read even when the rest of the file is invalid).");
    private static readonly Option<string> FormatOption = Flag<string>("format", "dot (Graphviz, the default) or mermaid.");
    private static readonly Option<int?> IterationsOption = Flag<int?>("n", "Print this many screens, then exit (default: until Ctrl-C or q).", "--iterations");
    private static readonly Option<string> DelayOption = Flag<string>("d", "Time between screens: seconds (2, 0.5) or a Go duration (500ms); default 2s.", "--delay");
    private static readonly Option<int?> LinesOption = Flag<int?>("n", "How many recent lines to print first (default 100; the kept lines are bounded by logging.keepLines).", "--lines");

    /// <summary>The environment variable Pilot's commands take the control socket from (after <c>-socket</c>).</summary>
    public const string SocketVariable = "PILOT_SOCKET";

    private static readonly CommandSpec[] Commands =
    [
        new("status", CliVerb.Status, "[-json]", "Jobs with state, health, pid, restarts, last exit and uptime; watches; maintenance (GET /v3/status).", [StatusJson, Socket], null),
        new("logs", CliVerb.Logs, "JOB [-f] [-n N]", "Recent output of a job and its health check (GET /v3/jobs/JOB/logs); -f keeps following.", [Follow, LinesOption, Socket], Word("JOB")),
        new("stop", CliVerb.Stop, "JOB", "Stop a job; it stays stopped until started (POST /v3/jobs/JOB/stop).", [Socket], Word("JOB")),
        new("start", CliVerb.Start, "JOB", "Start a job now (POST /v3/jobs/JOB/start).", [Socket], Word("JOB")),
        new("restart", CliVerb.Restart, "JOB", "Stop a job and start it again with a new process (POST /v3/jobs/JOB/restart).", [Socket], Word("JOB")),
        new("events", CliVerb.Events, "[SOURCE] [-json]", "Follow bus events, one line each, optionally only from SOURCE (GET /v3/events).", [EventsJson, Socket], Word("SOURCE")),
        new("graph", CliVerb.Graph, "[-format dot|mermaid]",
            "The job graph: jobs, watches and signals, an edge per when, pre/post-stop jobs, shutdown order, traps marked. "
            + "With -config FILE: that file, no Pilot needed; otherwise the running Pilot's (GET /v3/graph).", [FormatOption, Socket], null),
        new("why", CliVerb.Why, "JOB", "One line: what the job is waiting for now (GET /v3/jobs/JOB/why).", [Socket], Word("JOB")),
        new("top", CliVerb.Top, "[-n N] [-d SECONDS]", "Jobs with CPU % and memory of their process groups, refreshed in place (GET /v3/status); q or Ctrl-C quits.",
            [IterationsOption, DelayOption, Socket], null),
        new("help", CliVerb.CommandHelp, "[COMMAND]", "Show the usage of pilot or of one command.", [], Word("COMMAND")),
    ];

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
        // -config finds the control socket for every command too, before or after the command's name.
        Config.Recursive = true;
        foreach (var option in All)
        {
            root.Options.Add(option);
        }
        root.Options.Add(Help);
        foreach (var command in Commands)
        {
            root.Subcommands.Add(command.Command);
        }
        // With commands beside it, the root must still run on flags alone (v3's run path); Parse only reads the result.
        root.SetAction(static _ => 0);
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

    private static Argument<string> Word(string name) => new(name) { Arity = ArgumentArity.ZeroOrOne };

    public static CliParseResult Parse(IReadOnlyList<string> args)
    {
        var result = Root.Parse(args, new ParserConfiguration { EnablePosixBundling = false, ResponseFileTokenReplacer = null });
        var spec = Commands.FirstOrDefault(c => c.Command == result.CommandResult.Command);
        var usageOf = spec?.Name ?? "";
        if (result.Errors.Count > 0)
        {
            return new(null, result.Errors[0].Message, usageOf, Brief: spec is not null);
        }
        // Go's flag package rejects unknown flags.
        if (result.UnmatchedTokens.FirstOrDefault(t => t.StartsWith('-') && t.Length > 1) is { } unknown)
        {
            return new(null, $"flag provided but not defined: {unknown.Split('=')[0]}", usageOf, Brief: spec is not null);
        }
        if (result.UnmatchedTokens.FirstOrDefault() is { } word)
        {
            // v3 ignored such words and ran the supervisor; a mistyped command must not start one.
            return new(null, spec is null ? $"unknown command \"{word}\"" : $"unexpected argument \"{word}\" for {spec.Name}", usageOf, Brief: true);
        }
        return spec is null ? ParseFlags(result) : ParseCommand(result, spec);
    }

    private static CliParseResult ParseFlags(ParseResult result)
    {
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
        var maintenance = result.GetValue(Maintenance);
        // v3 took any value but "enable" as "disable" (and "" as no flag at all): a typo silently did the opposite.
        if (Given(result, Maintenance) && maintenance is not ("enable" or "disable"))
        {
            return new(null, $"invalid value \"{maintenance}\" for flag -maintenance: must be 'enable' or 'disable'");
        }

        Control.DevListener? devListener = null;
        if (result.GetValue(DevHttp) is { } devHttp && !Control.DevListener.TryParse(devHttp, out devListener))
        {
            return new(null, $"invalid value \"{devHttp}\" for flag {Control.DevListener.FlagName}: want HOST:PORT, e.g. 127.0.0.1:8088");
        }

        var invocation = new CliInvocation
        {
            DevListener = devListener,
            ConfigPath = result.GetValue(Config) ?? "",
            OutPath = result.GetValue(Out) ?? "",
            Maintenance = maintenance ?? "",
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

    private static CliParseResult ParseCommand(ParseResult result, CommandSpec spec)
    {
        // A v3 action flag beside a command would be silently dropped by one of the two.
        if (All.Where(o => o != Config).Append(Help).FirstOrDefault(o => Given(result, o)) is { } flag)
        {
            return new(null, $"flag {flag.Name} cannot be used with the {spec.Name} command", spec.Name, Brief: true);
        }
        var target = spec.Argument is null ? "" : result.GetValue(spec.Argument) ?? "";
        var invocation = new CliInvocation { ConfigPath = result.GetValue(Config) ?? "", Target = target, SocketPath = result.GetValue(Socket) ?? "" };
        if (result.GetValue(spec.HelpOption))
        {
            return new(invocation with { Verb = CliVerb.CommandHelp, Target = spec.Name }, null);
        }
        switch (spec.Verb)
        {
            case CliVerb.CommandHelp when target.Length > 0 && Commands.All(c => c.Name != target):
                return new(null, $"unknown command \"{target}\"", spec.Name, Brief: true);
            case CliVerb.Graph when result.GetValue(FormatOption) is { } format && !Supervisor.Graph.GraphRenderers.TryParseFormat(format, out _):
                return new(null, $"invalid value \"{format}\" for flag -format: must be 'dot' or 'mermaid'", spec.Name, Brief: true);
            case CliVerb.Top when result.GetValue(IterationsOption) is < 1:
                return new(null, $"invalid value \"{result.GetValue(IterationsOption)}\" for flag -n: must be 1 or more", spec.Name, Brief: true);
            case CliVerb.Top when result.GetValue(DelayOption) is { } delay && ParseDelay(delay) is null:
                return new(null, $"invalid value \"{delay}\" for flag -d: want seconds (2, 0.5) or a duration (500ms), at least 100ms", spec.Name, Brief: true);
            case CliVerb.Logs or CliVerb.Stop or CliVerb.Start or CliVerb.Restart or CliVerb.Why when target.Length == 0:
                return new(null, $"{spec.Name}: missing the job name", spec.Name, Brief: true);
            case CliVerb.Logs when result.GetValue(LinesOption) is < 0:
                return new(null, $"invalid value \"{result.GetValue(LinesOption)}\" for flag -n: must be 0 or more", spec.Name, Brief: true);
        }
        return new(invocation with
        {
            Verb = spec.Verb,
            Json = result.GetValue(StatusJson) || result.GetValue(EventsJson),
            Follow = result.GetValue(Follow),
            Lines = result.GetValue(LinesOption),
            GraphFormat = Supervisor.Graph.GraphRenderers.TryParseFormat(result.GetValue(FormatOption) ?? "dot", out var graphFormat) ? graphFormat : default,
            ConfigGiven = Given(result, Config),
            Iterations = result.GetValue(IterationsOption),
            Delay = result.GetValue(DelayOption) is { } text ? ParseDelay(text)!.Value : TimeSpan.FromSeconds(2),
        }, null);
    }

    /// <summary><c>-d</c> of top: seconds as a number, or a Go duration; at least 100 ms.</summary>
    private static TimeSpan? ParseDelay(string text)
    {
        TimeSpan delay;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && double.IsFinite(seconds) && seconds < 86400)
        {
            delay = TimeSpan.FromSeconds(seconds);
        }
        else if (!Supervisor.Config.Decoding.GoDuration.TryParseGo(text, out delay, out _))
        {
            return null;
        }
        return delay >= TimeSpan.FromMilliseconds(100) ? delay : null;
    }

    /// <summary>True when the flag is on the command line (a bool flag has an implicit result even when absent).</summary>
    private static bool Given(ParseResult result, Option option) => result.GetResult(option) is { Implicit: false };

    /// <summary>Go <c>flag</c>-style usage text, then Pilot's commands.</summary>
    public static string Usage(string program)
    {
        var text = new StringBuilder();
        text.Append("Usage of ").Append(program).AppendLine(":");
        AppendFlags(text, All);
        text.AppendLine()
            .Append("Commands (clients of the control socket: -socket, else $").Append(SocketVariable)
            .Append(", else control.socket of -config or CONTAINERPILOT, else ")
            .Append(Supervisor.Config.ControlConfig.DefaultSocketPath).AppendLine("):");
        foreach (var command in Commands)
        {
            text.Append("  ").Append(CultureInfo.InvariantCulture, $"{command.Name + " " + command.Arguments,-26}").AppendLine(command.Summary);
        }
        text.AppendLine("Run 'pilot help COMMAND' for a command's flags.");
        text.AppendLine("Configuration reference (every field, default and event): docs/configuration.md in Pilot's source, https://github.com/joyent/containerpilot/tree/master/docs/30-configuration for v3's.");
        return text.ToString();
    }

    /// <summary>The usage of one command (<paramref name="name"/> "" = the whole program).</summary>
    public static string UsageOf(string program, string name)
    {
        if (Commands.FirstOrDefault(c => c.Name == name) is not { } spec)
        {
            return Usage(program);
        }
        var text = new StringBuilder();
        text.Append("Usage: ").Append(program).Append(' ').Append(spec.Name).Append(' ').Append(spec.Arguments).AppendLine(" [-config FILE]");
        text.Append("  ").AppendLine(spec.Summary);
        AppendFlags(text, [.. spec.Options, Config]);
        return text.ToString();
    }

    private static void AppendFlags(StringBuilder text, IEnumerable<Option> options)
    {
        foreach (var option in options)
        {
            var kind = option.ValueType == typeof(bool) ? "" : option.ValueType == typeof(string) ? " string" : option.ValueType == typeof(int?) ? " int" : " value";
            text.Append("  ").Append(option.Name).AppendLine(kind);
            text.Append("    \t").AppendLine(option.Description);
        }
    }
}
