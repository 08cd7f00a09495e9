using Pilot.Supervisor.Config.Json5;

namespace Pilot.Supervisor.Config.Decoding;

/// <summary>Collects decode errors and warnings while the tree is read.</summary>
internal sealed class DecodeContext
{
    public List<ConfigError> Errors { get; } = [];
    public List<string> Warnings { get; } = [];

    public void Error(string path, string message, int line) => Errors.Add(new ConfigError(path, message, line));
}

/// <summary>
/// Reads one JSON5 object the way v3's mapstructure decode does: tag name exactly or case-insensitively, weak typing,
/// unknown keys rejected (with a suggestion). <c>v3Path</c> is mapstructure's name (<c>[0].health</c>) used inside
/// v3's messages; <c>path</c> is Pilot's (<c>jobs[0].health</c>).
/// </summary>
internal sealed class ObjectReader
{
    private readonly Json5Object node;
    private readonly DecodeContext context;
    private readonly Dictionary<string, Json5Property> matched = new(StringComparer.Ordinal);
    private readonly bool sectionRoot;

    /// <param name="sectionRoot">
    /// The file's top level: v3 decodes each top-level section on its own, so inside a section its messages name
    /// paths from that section (<c>'' has invalid keys</c>, <c>cannot parse 'tls.verify'</c>, <c>cannot parse '' as int</c>).
    /// </param>
    public ObjectReader(Json5Object node, string v3Path, string path, DecodeContext context, IReadOnlyCollection<string> keys,
        IReadOnlyCollection<string>? ignoredKeys = null, bool sectionRoot = false)
    {
        this.node = node;
        this.context = context;
        this.sectionRoot = sectionRoot;
        V3Path = v3Path;
        Path = path;
        foreach (var key in keys)
        {
            var property = node.Find(key) ?? node.Properties.FirstOrDefault(p => string.Equals(p.Key, key, StringComparison.OrdinalIgnoreCase));
            if (property is not null) matched[key] = property;
        }
        var used = matched.Values.Select(p => p.Key).ToHashSet(StringComparer.Ordinal);
        foreach (var property in node.Properties.Where(p => !used.Contains(p.Key)).OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (ignoredKeys?.Any(k => string.Equals(k, property.Key, StringComparison.OrdinalIgnoreCase)) == true)
            {
                // v3 silently drops keys that match its private fields; Pilot keeps accepting them but says so.
                context.Warnings.Add($"{Join(path, property.Key)} (line {property.Line}): key '{property.Key}' is ignored (ContainerPilot v3 accepts and ignores it)");
                continue;
            }
            context.Error(Join(path, property.Key), $"'{v3Path}' has invalid keys: {property.Key}" + DidYouMean(property.Key, keys), property.Line);
        }
    }

    public string V3Path { get; }
    public DecodeContext Context => context;
    public string Path { get; }
    public int Line => node.Line;
    public Json5Object Node => node;

    public static string Join(string parent, string key) => parent.Length == 0 ? key : parent + "." + key;

    private string V3Name(string key) => sectionRoot ? "" : V3Path.Length == 0 ? key : V3Path + "." + key;

    /// <summary>The raw value of a key (null when absent or JSON <c>null</c>, which mapstructure treats as unset).</summary>
    public Json5Node? Raw(string key) => matched.TryGetValue(key, out var p) && p.Value is not Json5Null ? p.Value : null;

    public int LineOf(string key) => matched.TryGetValue(key, out var p) ? p.Value.Line : node.Line;

    public bool Has(string key) => Raw(key) is not null;

    public string? String(string key)
    {
        var value = Raw(key);
        return value is null ? null : ToString(value, V3Name(key), Join(Path, key));
    }

    public string? ToString(Json5Node value, string v3Name, string path) => value switch
    {
        Json5String s => s.Value,
        Json5Number n => n.ToWeakString(),
        Json5Bool b => b.Value ? "1" : "0",
        _ => Fail<string>(path, $"'{v3Name}' expected type 'string', got unconvertible type '{value.GoTypeName}'", value.Line),
    };

    public long? Int(string key)
    {
        var value = Raw(key);
        if (value is null) return null;
        var v3Name = V3Name(key);
        var path = Join(Path, key);
        switch (value)
        {
            case Json5Number n:
                if (double.IsNaN(n.Value) || double.IsInfinity(n.Value)) return long.MinValue;
                return (long)Math.Truncate(Math.Clamp(n.Value, long.MinValue, long.MaxValue));
            case Json5Bool b:
                return b.Value ? 1 : 0;
            case Json5String s:
                if (GoStrconv.TryParseInt(s.Value, out var parsed, out var error)) return parsed;
                context.Error(path, $"cannot parse '{v3Name}' as int: {error}", value.Line);
                return null;
            default:
                context.Error(path, $"'{v3Name}' expected type 'int', got unconvertible type '{value.GoTypeName}'", value.Line);
                return null;
        }
    }

    public bool? Bool(string key)
    {
        var value = Raw(key);
        if (value is null) return null;
        var v3Name = V3Name(key);
        switch (value)
        {
            case Json5Bool b:
                return b.Value;
            case Json5Number n:
                return n.Value != 0;
            case Json5String { Value: "" }:
                return false;
            case Json5String s:
                if (GoStrconv.TryParseBool(s.Value, out var parsed, out var error)) return parsed;
                context.Error(Join(Path, key), $"cannot parse '{v3Name}' as bool: {error}", value.Line);
                return null;
            default:
                context.Error(Join(Path, key), $"'{v3Name}' expected type 'bool', got unconvertible type '{value.GoTypeName}'", value.Line);
                return null;
        }
    }

    /// <summary>A nested object; a non-object is mapstructure's <c>expected a map</c> error.</summary>
    public ObjectReader? Object(string key, IReadOnlyCollection<string> keys, IReadOnlyCollection<string>? ignored = null)
    {
        var value = Raw(key);
        if (value is null) return null;
        if (value is Json5Object obj) return new ObjectReader(obj, V3Name(key), Join(Path, key), context, keys, ignored);
        context.Error(Join(Path, key), $"'{V3Name(key)}' expected a map, got '{GoKind(value)}'", value.Line);
        return null;
    }

    /// <summary>An array field (<c>[]T</c>); an empty object counts as an empty array, as in mapstructure.</summary>
    public IReadOnlyList<Json5Node>? Array(string key)
    {
        var value = Raw(key);
        switch (value)
        {
            case null:
                return null;
            case Json5Array a:
                return a.Items;
            case Json5Object { Properties.Count: 0 }:
                return [];
            default:
                context.Error(Join(Path, key), $"'{V3Name(key)}': source data must be an array or slice, got {GoKind(value)}", value.Line);
                return null;
        }
    }

    /// <summary>A <c>[]string</c> field with weak item conversion.</summary>
    public List<string>? StringArray(string key)
    {
        var items = Array(key);
        if (items is null) return null;
        var result = new List<string>();
        for (var i = 0; i < items.Count; i++)
        {
            if (items[i] is Json5Null)
            {
                result.Add("");
                continue;
            }
            var s = ToString(items[i], $"{V3Name(key)}[{i}]", $"{Join(Path, key)}[{i}]");
            if (s is not null) result.Add(s);
        }
        return result;
    }

    private T? Fail<T>(string path, string message, int line)
        where T : class
    {
        context.Error(path, message, line);
        return null;
    }

    /// <summary>Go's reflect.Kind name as mapstructure prints it.</summary>
    public static string GoKind(Json5Node node) => node switch
    {
        Json5String => "string",
        Json5Number => "float64",
        Json5Bool => "bool",
        Json5Array => "slice",
        Json5Object => "map",
        _ => "invalid",
    };

    /// <summary>
    /// <c> (did you mean 'x'?)</c> for the closest of <paramref name="known"/>, or nothing; <paramref name="quote"/> as
    /// the message around it quotes (keys and names in single quotes, choices in double quotes).
    /// </summary>
    public static string DidYouMean(string value, IEnumerable<string> known, char quote = '\'') =>
        Suggest(value, known) is { } suggestion ? $" (did you mean {quote}{suggestion}{quote}?)" : "";

    /// <summary>The closest known key within a small edit distance, for "did you mean".</summary>
    public static string? Suggest(string key, IEnumerable<string> known)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in known)
        {
            var d = Distance(key.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (d < bestDistance)
            {
                bestDistance = d;
                best = candidate;
            }
        }
        var limit = Math.Max(1, Math.Min(3, key.Length / 3));
        return bestDistance <= limit ? best : null;
    }

    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        }
        return d[a.Length, b.Length];
    }
}
