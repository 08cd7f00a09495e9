using System.Globalization;

namespace Pilot.Supervisor.Config.Json5;

/// <summary>A parsed JSON5 value with the (1-based) line and column where it starts, so errors can point at it.</summary>
public abstract class Json5Node(int line, int column)
{
    public int Line { get; } = line;
    public int Column { get; } = column;

    /// <summary>Go's <c>%T</c> name of the value as v3 (flynn/json5 into interface{}) would see it.</summary>
    public abstract string GoTypeName { get; }

    /// <summary>Go <c>%v</c> formatting of the value (used where v3 prints raw values).</summary>
    public abstract string GoFormat();
}

public sealed class Json5Property(string key, int line, int column, Json5Node value)
{
    public string Key { get; } = key;
    public int Line { get; } = line;
    public int Column { get; } = column;
    public Json5Node Value { get; } = value;
}

public sealed class Json5Object(IReadOnlyList<Json5Property> properties, int line, int column) : Json5Node(line, column)
{
    /// <summary>Properties in file order; a repeated key keeps only its last occurrence (as Go's map decode does).</summary>
    public IReadOnlyList<Json5Property> Properties { get; } = properties;

    public override string GoTypeName => "map[string]interface {}";

    public Json5Property? Find(string key) => Properties.FirstOrDefault(p => p.Key == key);

    public override string GoFormat() =>
        "map[" + string.Join(' ', Properties.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key + ":" + p.Value.GoFormat())) + "]";
}

public sealed class Json5Array(IReadOnlyList<Json5Node> items, int line, int column) : Json5Node(line, column)
{
    public IReadOnlyList<Json5Node> Items { get; } = items;

    public override string GoTypeName => "[]interface {}";

    public override string GoFormat() => "[" + string.Join(' ', Items.Select(i => i.GoFormat())) + "]";
}

public sealed class Json5String(string value, int line, int column) : Json5Node(line, column)
{
    public string Value { get; } = value;

    public override string GoTypeName => "string";

    public override string GoFormat() => Value;
}

public sealed class Json5Number(double value, int line, int column) : Json5Node(line, column)
{
    public double Value { get; } = value;

    public override string GoTypeName => "float64";

    /// <summary>Go <c>%v</c> of a float64: shortest form, exponent from 1e21 up or below 1e-4.</summary>
    public override string GoFormat() => GoFormatting.FormatFloat(Value);

    /// <summary>mapstructure's weak number→string: shortest decimal without exponent (<c>strconv.FormatFloat(f, 'f', -1, 64)</c>).</summary>
    public string ToWeakString() => GoFormatting.FormatFloatNoExponent(Value);
}

public sealed class Json5Bool(bool value, int line, int column) : Json5Node(line, column)
{
    public bool Value { get; } = value;

    public override string GoTypeName => "bool";

    public override string GoFormat() => Value ? "true" : "false";
}

public sealed class Json5Null(int line, int column) : Json5Node(line, column)
{
    public override string GoTypeName => "<nil>";

    public override string GoFormat() => "<nil>";
}

/// <summary>Go's number formatting rules, shared by the JSON5 tree and the template engine.</summary>
internal static class GoFormatting
{
    public static string FormatFloat(double value)
    {
        if (double.IsPositiveInfinity(value)) return "+Inf";
        if (double.IsNegativeInfinity(value)) return "-Inf";
        if (double.IsNaN(value)) return "NaN";
        if (value == 0) return double.IsNegative(value) ? "-0" : "0";
        var abs = Math.Abs(value);
        if (abs < 1e21 && abs >= 1e-4) return FormatFloatNoExponent(value);
        // Go %v: 'g' with shortest precision and exponent at least two digits (1e+21, 1e-05).
        var r = value.ToString("R", CultureInfo.InvariantCulture);
        var e = r.IndexOf('E', StringComparison.Ordinal);
        if (e < 0) return r;
        var mantissa = r[..e];
        var exp = int.Parse(r[(e + 1)..], CultureInfo.InvariantCulture);
        return mantissa + "e" + (exp < 0 ? "-" : "+") + Math.Abs(exp).ToString("00", CultureInfo.InvariantCulture);
    }

    public static string FormatFloatNoExponent(double value)
    {
        if (double.IsPositiveInfinity(value)) return "+Inf";
        if (double.IsNegativeInfinity(value)) return "-Inf";
        if (double.IsNaN(value)) return "NaN";
        var r = value.ToString("R", CultureInfo.InvariantCulture);
        if (!r.Contains('E', StringComparison.Ordinal)) return r;
        return ((decimal)value).ToString(CultureInfo.InvariantCulture) is var d && Math.Abs(value) < 7.9e28 && Math.Abs(value) > 1e-28
            ? d
            : value.ToString("F0", CultureInfo.InvariantCulture);
    }
}
