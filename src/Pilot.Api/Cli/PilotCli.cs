using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Pilot.Supervisor.Config;

namespace Pilot.Api.Cli;

/// <summary>Starts the supervisor and control plane with a loaded config; returns the process exit code.</summary>
public delegate Task<int> RunPilot(string configPath, PilotConfig config, Control.DevListener? devListener, CancellationToken cancellationToken);

/// <summary>
/// The <c>pilot</c> command line: ContainerPilot v3's subcommands, outputs and exit codes (0 ok, 1 failure, 2 usage).
/// Fatal messages go to stdout as <c>&lt;RFC 3339 time&gt; &lt;message&gt;</c>, as v3 prints them before logging is set up.
/// </summary>
public sealed class PilotCli(TextWriter stdout, TextWriter stderr, IReadOnlyDictionary<string, string> environment, TimeProvider time)
{
    public const int ExitOk = 0;
    public const int ExitFailure = 1;
    public const int ExitUsage = 2;

    private static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(30);
    // A reload waits for changed jobs to stop; the control plane answers within 5 minutes (503 if it is still running).
    private static readonly TimeSpan ReloadTimeout = TimeSpan.FromMinutes(6);

    /// <summary>The CLI on the real console and process environment.</summary>
    public static PilotCli CreateDefault() => new(Console.Out, Console.Error, ProcessEnvironment(), TimeProvider.System);

    /// <summary>A snapshot of the process environment.</summary>
    public static Dictionary<string, string> ProcessEnvironment()
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in System.Environment.GetEnvironmentVariables())
        {
            variables[(string)entry.Key] = (string?)entry.Value ?? "";
        }
        return variables;
    }

    /// <param name="args">The command line.</param>
    /// <param name="run">Runs Pilot (the supervisor) with a loaded config.</param>
    /// <param name="cancellationToken">Cancels a client verb's request.</param>
    /// <param name="notSupervising">Called once the command line asks for anything but running Pilot.</param>
    public async Task<int> RunAsync(IReadOnlyList<string> args, RunPilot run, CancellationToken cancellationToken, Action? notSupervising = null)
    {
        ArgumentNullException.ThrowIfNull(run);
        var parsed = PilotCommandLine.Parse(args);
        if (parsed.Invocation?.Verb != CliVerb.Run)
        {
            notSupervising?.Invoke();
        }
        if (parsed.Invocation is not { } invocation)
        {
            await stderr.WriteLineAsync(parsed.Error).ConfigureAwait(false);
            if (parsed.Brief)
            {
                // Pilot's own words: the error stays the last thing on the screen, not buried under the usage.
                await stderr.WriteLineAsync(parsed.UsageOf.Length > 0 ? $"Run 'pilot help {parsed.UsageOf}' for its usage." : "Run 'pilot help' for usage.").ConfigureAwait(false);
            }
            else
            {
                // v3's flag errors: Go's flag package prints the usage after them.
                await stderr.WriteAsync(PilotCommandLine.UsageOf(ProgramName, parsed.UsageOf)).ConfigureAwait(false);
            }
            return ExitUsage;
        }
        if (invocation.Verb == CliVerb.Help)
        {
            // Go 1.9's flag package (v3's toolchain) exits 2 after -h too.
            await stderr.WriteAsync(PilotCommandLine.Usage(ProgramName)).ConfigureAwait(false);
            return ExitUsage;
        }
        if (invocation.Verb == CliVerb.CommandHelp)
        {
            await stdout.WriteAsync(PilotCommandLine.UsageOf(ProgramName, invocation.Target)).ConfigureAwait(false);
            return ExitOk;
        }
        if (invocation.Verb == CliVerb.Version)
        {
            await stdout.WriteAsync($"Version: {BuildInfo.Version}\nGitHash: {BuildInfo.GitHash}\n").ConfigureAwait(false);
            return ExitOk;
        }

        var configPath = invocation.ConfigPath.Length > 0 ? invocation.ConfigPath : environment.GetValueOrDefault("CONTAINERPILOT", "");
        if (invocation.Verb == CliVerb.Graph && invocation.ConfigGiven && invocation.SocketPath.Length == 0)
        {
            return await GraphOfFileAsync(configPath, invocation.GraphFormat).ConfigureAwait(false);
        }
        if (invocation.Verb is CliVerb.Status or CliVerb.Logs or CliVerb.Stop or CliVerb.Start or CliVerb.Restart or CliVerb.Events
            or CliVerb.Graph or CliVerb.Why or CliVerb.Top)
        {
            var socket = await FindCommandSocketAsync(invocation.SocketPath, configPath).ConfigureAwait(false);
            if (socket is null)
            {
                return ExitFailure;
            }
            var terminal = ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected;
            return await new PilotCommands(stdout, stderr, time, terminal).RunAsync(invocation, socket, cancellationToken).ConfigureAwait(false);
        }
        if (configPath.Length == 0 && invocation.Verb is CliVerb.Template or CliVerb.Validate or CliVerb.Run)
        {
            return await FatalAsync("-config flag is required").ConfigureAwait(false);
        }
        return invocation.Verb switch
        {
            CliVerb.Template => await TemplateAsync(configPath, invocation.OutPath).ConfigureAwait(false),
            CliVerb.Validate => await ValidateAsync(configPath).ConfigureAwait(false),
            CliVerb.Run => await RunPilotAsync(configPath, invocation.DevListener, run, cancellationToken).ConfigureAwait(false),
            _ => await ClientAsync(configPath, invocation, cancellationToken).ConfigureAwait(false),
        };
    }

    private static string ProgramName => System.Environment.ProcessPath ?? "pilot";

    /// <summary>
    /// The control socket of the config at <paramref name="configPath"/> (loaded and validated in full, as v3's client
    /// flags do), or the documented default when no config is given; otherwise every reason it cannot be found.
    /// </summary>
    private (string? Socket, IReadOnlyList<string> Errors) FindSocket(string configPath)
    {
        if (configPath.Length == 0)
        {
            // No config at all (v3: "-config flag is required"): $PILOT_SOCKET, else the documented default.
            return (environment.GetValueOrDefault(PilotCommandLine.SocketVariable, "") is { Length: > 0 } fromEnvironment
                ? Path.GetFullPath(fromEnvironment) : ControlConfig.DefaultSocketPath, []);
        }
        var config = ConfigLoader.LoadFile(configPath, environment);
        if (!config.IsValid)
        {
            return (null, [.. config.Errors.Select(e => e.ToString())]);
        }
        return (config.Config!.Control.SocketPath, []);
    }

    /// <summary>
    /// The control socket for Pilot's own commands, which need nothing else of the config: <c>-socket</c>, else
    /// <c>$PILOT_SOCKET</c>, else <c>control.socket</c> of the config — read leniently when the file on disk is invalid
    /// (Pilot keeps running its old config meanwhile, and the operator still needs status and logs), with a warning —
    /// else the default. Null after printing why, when even that cannot be read.
    /// </summary>
    private async Task<string?> FindCommandSocketAsync(string socketFlag, string configPath)
    {
        if (socketFlag.Length > 0)
        {
            return Path.GetFullPath(socketFlag);
        }
        if (environment.GetValueOrDefault(PilotCommandLine.SocketVariable, "") is { Length: > 0 } fromEnvironment)
        {
            return Path.GetFullPath(fromEnvironment);
        }
        var (socket, errors) = FindSocket(configPath);
        if (socket is not null)
        {
            return socket;
        }
        var (lenient, reason) = ConfigLoader.ReadControlSocket(configPath, environment);
        if (lenient is not null)
        {
            await stderr.WriteLineAsync(
                $"warning: {configPath} has {errors.Count} error(s) ('pilot -validate' lists them); using its control.socket {lenient}").ConfigureAwait(false);
            return lenient;
        }
        foreach (var error in errors.DefaultIfEmpty(reason ?? "no control socket"))
        {
            await stderr.WriteLineAsync(error).ConfigureAwait(false);
        }
        await stderr.WriteLineAsync($"cannot find the control socket in {configPath}: give it with -socket PATH or ${PilotCommandLine.SocketVariable}").ConfigureAwait(false);
        return null;
    }

    private async Task<int> TemplateAsync(string configPath, string outPath)
    {
        var (text, readError) = ConfigLoader.ReadFile(configPath);
        if (text is null)
        {
            return await FatalAsync($"could not read config file: {readError}").ConfigureAwait(false);
        }
        string rendered;
        try
        {
            rendered = ConfigLoader.Render(text, environment);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return await FatalAsync(ex.Message).ConfigureAwait(false);
        }
        if (outPath is "" or "-")
        {
            await stdout.WriteAsync(rendered).ConfigureAwait(false);
            return ExitOk;
        }
        try
        {
            var options = new FileStreamOptions
            {
                Mode = FileMode.Create,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            };
            await using var file = new FileStream(outPath, options);
            await file.WriteAsync(Encoding.UTF8.GetBytes(rendered)).ConfigureAwait(false);
            return ExitOk;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return await FatalAsync($"could not write config file: {ex.Message}").ConfigureAwait(false);
        }
    }

    /// <summary><c>pilot graph -config FILE</c>: the graph of the file as it would run, no Pilot needed; an invalid file is refused with its errors.</summary>
    private async Task<int> GraphOfFileAsync(string configPath, Supervisor.Graph.GraphFormat format)
    {
        var result = ConfigLoader.LoadFile(configPath, environment);
        if (!result.IsValid)
        {
            foreach (var error in result.Errors)
            {
                await stderr.WriteLineAsync($"error: {error}").ConfigureAwait(false);
            }
            await stderr.WriteLineAsync($"{configPath}: invalid, {result.Errors.Length} error(s); no graph").ConfigureAwait(false);
            return ExitFailure;
        }
        var graph = Supervisor.Graph.JobGraphBuilder.Build(result.Config!);
        await stdout.WriteAsync(Supervisor.Graph.GraphRenderers.Render(graph, format)).ConfigureAwait(false);
        return ExitOk;
    }

    private async Task<int> ValidateAsync(string configPath)
    {
        var result = ConfigLoader.LoadFile(configPath, environment);
        foreach (var error in result.Errors)
        {
            await stdout.WriteLineAsync($"error: {error}").ConfigureAwait(false);
        }
        foreach (var warning in result.Warnings)
        {
            await stdout.WriteLineAsync($"warning: {warning}").ConfigureAwait(false);
        }
        if (!result.IsValid)
        {
            await stdout.WriteLineAsync($"{configPath}: invalid, {result.Errors.Length} error(s)").ConfigureAwait(false);
            return ExitFailure;
        }
        await stdout.WriteLineAsync($"{configPath}: valid").ConfigureAwait(false);
        return ExitOk;
    }

    private async Task<int> RunPilotAsync(string configPath, Control.DevListener? devListener, RunPilot run, CancellationToken cancellationToken)
    {
        // v3 sets CONTAINERPILOT_PID before the first load, so the config template can use it.
        var pid = System.Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        System.Environment.SetEnvironmentVariable("CONTAINERPILOT_PID", pid);
        var result = ConfigLoader.LoadFile(configPath, new Dictionary<string, string>(environment) { ["CONTAINERPILOT_PID"] = pid });
        if (!result.IsValid)
        {
            foreach (var error in result.Errors)
            {
                await FatalAsync(error.ToString()).ConfigureAwait(false);
            }
            return ExitFailure;
        }
        // The supervisor logs each warning once, in the configured log format.
        try
        {
            return await run(configPath, result.Config!, devListener, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Whatever a config value still trips at start-up is a fatal error with its message, exit 1 as v3's
            // log.Fatal, never an unhandled exception (SIGABRT, a stack trace) from PID 1.
            return await FatalAsync(ex.Message).ConfigureAwait(false);
        }
    }

    private async Task<int> ClientAsync(string configPath, CliInvocation invocation, CancellationToken cancellationToken)
    {
        // v3 loads and validates the whole config only to find the socket; without a config (v3: "-config flag is
        // required") Pilot uses the documented default socket.
        var (socketPath, errors) = FindSocket(configPath);
        if (socketPath is null)
        {
            foreach (var error in errors)
            {
                await FatalAsync(error).ConfigureAwait(false);
            }
            return ExitFailure;
        }

        var (flag, failure) = invocation.Verb switch
        {
            CliVerb.Reload => ("-reload", "failed to run subcommand"),
            CliVerb.Maintenance => ("-maintenance", "failed to run subcommand"),
            CliVerb.PutEnv => ("-putenv", "failed to run subcommand"),
            CliVerb.PutMetric => ("-putmetric", "failed to run subcommand"),
            _ => ("-ping", "failed"),
        };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(invocation.Verb == CliVerb.Reload ? ReloadTimeout : ClientTimeout);
        using var client = new ControlClient(socketPath);
        ControlAnswer answer;
        try
        {
            answer = invocation.Verb switch
            {
                CliVerb.Reload => await client.PostAsync("v3/reload", null, timeout.Token).ConfigureAwait(false),
                // Only "enable" and "disable" get here (the parser refuses anything else).
                CliVerb.Maintenance => await client.PostAsync(
                    invocation.Maintenance == "enable" ? "v3/maintenance/enable" : "v3/maintenance/disable", null, timeout.Token).ConfigureAwait(false),
                CliVerb.PutEnv => await client.PostAsync("v3/environ", EnvironmentJson(invocation.Environment), timeout.Token).ConfigureAwait(false),
                CliVerb.PutMetric => await client.PostAsync("v3/metric", MetricJson(invocation.Metrics), timeout.Token).ConfigureAwait(false),
                _ => await client.GetAsync("v3/ping", timeout.Token).ConfigureAwait(false),
            };
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
        {
            return await FatalAsync($"{flag}: {failure}: {client.DescribeFailure(ex)}").ConfigureAwait(false);
        }
        if (!answer.IsSuccess)
        {
            return await FatalAsync($"{flag}: {failure}: {answer.Describe()}").ConfigureAwait(false);
        }
        // v3 prints only -ping's "ok"; -maintenance, -reload, -putenv and -putmetric succeed silently.
        if (invocation.Verb == CliVerb.Ping)
        {
            await stdout.WriteLineAsync("ok").ConfigureAwait(false);
        }
        return ExitOk;
    }

    private static string EnvironmentJson(IReadOnlyDictionary<string, string> variables) =>
        JsonSerializer.Serialize(
            new Dictionary<string, string>(variables.OrderBy(p => p.Key, StringComparer.Ordinal)),
            V3.PilotApiJsonContext.Default.DictionaryStringString);

    /// <summary>Numbers go as JSON numbers; anything else as the string given, for the server to reject with its reason.</summary>
    private static string MetricJson(IReadOnlyDictionary<string, string> metrics)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var (name, value) in metrics.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number))
                {
                    writer.WriteNumber(name, number);
                }
                else
                {
                    writer.WriteString(name, value);
                }
            }
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private async Task<int> FatalAsync(string message)
    {
        await LogAsync(message).ConfigureAwait(false);
        return ExitFailure;
    }

    private Task LogAsync(string message) => stdout.WriteLineAsync(LogLine(time, message));

    /// <summary>v3's pre-logging line: Go's RFC 3339 with nanoseconds (trailing zeros dropped), a space, the message.</summary>
    public static string LogLine(TimeProvider time, string message) =>
        $"{time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture)} {message}";
}
