using System.Globalization;
using System.Text;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Processes;
using LogLevel = Pilot.Supervisor.Config.LogLevel;

namespace Pilot.Supervisor.Logging;

/// <summary>
/// Writes Pilot's own messages and its children's output lines in v3's formats (<c>default</c>, <c>text</c>,
/// <c>json</c>). One whole line per write under a lock, so lines from many jobs never interleave mid-line.
/// </summary>
public sealed class LogWriter : IDisposable
{
    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly DateTimeOffset _started;
    private TextWriter _output;
    private bool _ownsOutput;

    public LogWriter(LoggingConfig config, TimeProvider? time = null, TextWriter? output = null)
    {
        _time = time ?? TimeProvider.System;
        _started = _time.GetLocalNow();
        Config = config;
        (_output, _ownsOutput) = output is not null ? (output, false) : Open(config.Output);
    }

    public LoggingConfig Config { get; private set; }

    public bool IsEnabled(LogLevel level) => level >= Config.Level;

    /// <summary>Applies a new logging section (after a reload).</summary>
    public void Reconfigure(LoggingConfig config)
    {
        lock (_gate)
        {
            if (config.Output != Config.Output)
            {
                try
                {
                    var (output, owns) = Open(config.Output);
                    CloseOutput();
                    (_output, _ownsOutput) = (output, owns);
                }
                catch (LogOutputException ex)
                {
                    // A reload must not lose Pilot's log: keep writing where it went before.
                    Write(LogLevel.Error, ex.Message + "; keeping the current log output"); // the gate is reentrant
                    config = config with { Output = Config.Output };
                }
            }
            Config = config;
        }
    }

    /// <summary>Reopens a log file (SIGUSR1, for log rotation); a no-op for stdout/stderr.</summary>
    public void Reopen()
    {
        lock (_gate)
        {
            if (_ownsOutput)
            {
                try
                {
                    var reopened = Open(Config.Output);
                    CloseOutput();
                    (_output, _ownsOutput) = reopened;
                }
                catch (LogOutputException ex)
                {
                    Write(LogLevel.Error, ex.Message + "; still writing to the file opened before"); // the gate is reentrant
                }
            }
        }
    }

    public void Write(LogLevel level, string message) => Write(level, message, job: null, pid: null, check: null);

    /// <summary>One line of a child's output: an INFO entry with <c>job</c>/<c>check</c> and <c>pid</c> fields, as v3.</summary>
    public void WriteOutput(OutputLine line)
    {
        var isCheck = line.Name.StartsWith("check.", StringComparison.Ordinal);
        Write(LogLevel.Info, line.Text, job: isCheck ? null : line.Name, pid: line.Pid, check: isCheck ? line.Name : null);
    }

    public void Write(LogLevel level, string message, string? job, int? pid, string? check)
    {
        if (!IsEnabled(level))
        {
            return;
        }
        var now = _time.GetLocalNow();
        var text = Config.Format switch
        {
            LogFormat.Json => FormatJson(level, message, job, pid, check, now),
            LogFormat.Text => FormatText(level, message, job, pid, check, now),
            _ => FormatDefault(message, job, pid, now),
        };
        lock (_gate)
        {
            _output.Write(text);
            _output.Flush();
        }
    }

    /// <summary>Go's RFC3339Nano: fraction without trailing zeros, <c>Z</c> for UTC.</summary>
    public static string Rfc3339Nano(DateTimeOffset time) =>
        time.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture) + Offset(time);

    private static string Rfc3339(DateTimeOffset time) =>
        time.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture) + Offset(time);

    private static string Offset(DateTimeOffset time) =>
        time.Offset == TimeSpan.Zero ? "Z" : time.ToString("zzz", CultureInfo.InvariantCulture);

    private static string FormatDefault(string message, string? job, int? pid, DateTimeOffset now)
    {
        var line = new StringBuilder(Rfc3339Nano(now));
        if (job is not null)
        {
            line.Append(' ').Append(job);
        }
        if (pid is not null)
        {
            line.Append(' ').Append(pid.Value.ToString(CultureInfo.InvariantCulture));
        }
        return line.Append(' ').Append(message).Append('\n').ToString();
    }

    private static string FormatText(LogLevel level, string message, string? job, int? pid, string? check, DateTimeOffset now)
    {
        var line = new StringBuilder();
        line.Append("time=\"").Append(Rfc3339(now)).Append("\" level=").Append(LevelName(level)).Append(' ');
        if (message.Length > 0)
        {
            line.Append("msg=").Append(QuoteIfNeeded(message)).Append(' ');
        }
        foreach (var (key, value) in Fields(job, pid, check))
        {
            line.Append(key).Append('=').Append(QuoteIfNeeded(value)).Append(' ');
        }
        return line.Append('\n').ToString();
    }

    private static string FormatJson(LogLevel level, string message, string? job, int? pid, string? check, DateTimeOffset now)
    {
        // Keys sorted as logrus does: check, job, level, msg, pid, time; strings escaped as Go's encoding/json does.
        var line = new StringBuilder("{");
        if (check is not null)
        {
            AppendGoJson(line.Append("\"check\":"), check).Append(',');
        }
        if (job is not null)
        {
            AppendGoJson(line.Append("\"job\":"), job).Append(',');
        }
        AppendGoJson(line.Append("\"level\":"), LevelName(level)).Append(',');
        AppendGoJson(line.Append("\"msg\":"), message).Append(',');
        if (pid is not null)
        {
            line.Append("\"pid\":").Append(pid.Value.ToString(CultureInfo.InvariantCulture)).Append(',');
        }
        AppendGoJson(line.Append("\"time\":"), Rfc3339Nano(now));
        return line.Append("}\n").ToString();
    }

    /// <summary>
    /// A JSON string as Go's <c>encoding/json</c> writes it (logrus uses it): <c>\"</c>, <c>\\</c>, <c>\n</c>, <c>\r</c>,
    /// <c>\t</c>; other control characters and <c>&lt; &gt; &amp;</c>, U+2028, U+2029 as lower-case <c>\u00xx</c>;
    /// everything else, non-ASCII included, as is.
    /// </summary>
    private static StringBuilder AppendGoJson(StringBuilder line, string value)
    {
        line.Append('"');
        foreach (var rune in value.EnumerateRunes())
        {
            switch (rune.Value)
            {
                case '"':
                    line.Append("\\\"");
                    break;
                case '\\':
                    line.Append("\\\\");
                    break;
                case '\n':
                    line.Append("\\n");
                    break;
                case '\r':
                    line.Append("\\r");
                    break;
                case '\t':
                    line.Append("\\t");
                    break;
                case < 0x20 or '<' or '>' or '&' or 0x2028 or 0x2029:
                    line.Append("\\u").Append(rune.Value.ToString("x4", CultureInfo.InvariantCulture));
                    break;
                default:
                    line.Append(rune.ToString());
                    break;
            }
        }
        return line.Append('"');
    }

    private static IEnumerable<(string Key, string Value)> Fields(string? job, int? pid, string? check)
    {
        if (check is not null)
        {
            yield return ("check", check);
        }
        if (job is not null)
        {
            yield return ("job", job);
        }
        if (pid is not null)
        {
            yield return ("pid", pid.Value.ToString(CultureInfo.InvariantCulture));
        }
    }

    private static string QuoteIfNeeded(string value) =>
        value.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-') ? value : "\"" + value + "\"";

    public static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Debug => "debug",
        LogLevel.Info => "info",
        LogLevel.Warn => "warning",
        LogLevel.Error => "error",
        LogLevel.Fatal => "fatal",
        _ => "panic",
    };

    /// <exception cref="LogOutputException">the file cannot be opened, with v3's message.</exception>
    private static (TextWriter Output, bool Owns) Open(string output)
    {
        switch (output.ToLowerInvariant())
        {
            case "stdout":
                return (Console.Out, false);
            case "stderr":
                return (Console.Error, false);
        }
        try
        {
            return (new StreamWriter(new FileStream(output, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)), true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new LogOutputException($"Error initializing log file '{output}': {ex.Message}", ex);
        }
    }

    private void CloseOutput()
    {
        if (_ownsOutput)
        {
            _output.Dispose();
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            CloseOutput();
            _ownsOutput = false;
        }
    }

    internal TimeSpan Uptime => _time.GetLocalNow() - _started;
}

/// <summary><c>logging.output</c> names a file Pilot cannot open for appending.</summary>
public sealed class LogOutputException(string message, Exception inner) : IOException(message, inner);
