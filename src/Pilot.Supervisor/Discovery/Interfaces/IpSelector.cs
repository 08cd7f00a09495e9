using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Pilot.Supervisor.Discovery.Interfaces;

/// <summary>One address of one network interface.</summary>
public sealed record InterfaceAddress(string Name, IPAddress Address)
{
    /// <summary>v3's <c>name:ip</c> form (IPv4 dotted, IPv6 canonical without zone).</summary>
    public override string ToString() => $"{Name}:{IpSelector.Format(Address)}";
}

/// <summary>The outcome of resolving <c>interfaces</c>: the chosen IP, or v3's error text.</summary>
public sealed record IpSelection(string? Ip, string? Error)
{
    public bool Ok => Ip is not null && Error is null;
}

/// <summary>
/// v3's interface specifications (<c>config/services/ips.go</c>): <c>inet</c>, <c>inet6</c>, <c>NAME</c>,
/// <c>NAME:inet</c>, <c>NAME:inet6</c>, <c>NAME[N]</c>, a CIDR, <c>static:IP</c>; tried in order, first match wins.
/// </summary>
public static partial class IpSelector
{
    public static readonly IReadOnlyList<string> DefaultSpecs = Config.Validation.V3Rules.DefaultInterfaces;

    // Go RE2's \w and \d are ASCII-only.
    [GeneratedRegex(@"^(?<name>[0-9A-Za-z_]+)(?:(?:\[(?<index>[0-9]+)\])|(?::(?<version>inet6?)))?$", RegexOptions.CultureInvariant)]
    private static partial Regex SpecPattern();

    /// <summary>Resolves against this machine's interfaces.</summary>
    public static IpSelection Select(IEnumerable<string>? specs) => Select(specs, SystemInterfaces());

    /// <summary>Resolves against the given interface addresses (any order; they are sorted as v3 does).</summary>
    public static IpSelection Select(IEnumerable<string>? specs, IEnumerable<InterfaceAddress> interfaces)
    {
        ArgumentNullException.ThrowIfNull(interfaces);
        var list = specs?.ToList() ?? [];
        if (list.Count == 0)
        {
            list = [.. DefaultSpecs];
        }
        var parsed = new List<Spec>();
        var errors = new List<string>();
        foreach (var text in list)
        {
            var (spec, error) = Parse(text);
            if (error is not null)
            {
                errors.Add(error);
            }
            else
            {
                parsed.Add(spec!);
            }
        }
        // v3 rejects the whole list when any spec is malformed, even if another would match.
        if (errors.Count > 0)
        {
            return new IpSelection(null, string.Join('\n', errors));
        }
        var candidates = Sort(interfaces);
        foreach (var spec in parsed)
        {
            if (spec is StaticSpec s)
            {
                return new IpSelection(Format(s.Ip), null);
            }
            var index = 0;
            string? current = null;
            foreach (var candidate in candidates)
            {
                if (candidate.Name != current)
                {
                    current = candidate.Name;
                    index = 0;
                }
                else
                {
                    index++;
                }
                if (spec.Matches(index, candidate))
                {
                    return new IpSelection(Format(candidate.Address), null);
                }
            }
        }
        return new IpSelection(null,
            "none of the interface specifications were able to match\nSpecifications: ["
            + string.Join(' ', parsed.Select(p => p.GoString())) + "]\nInterfaces IPs: ["
            + string.Join(' ', candidates.Select(c => c.ToString())) + "]");
    }

    /// <summary>Every address of every interface the OS reports, up or down.</summary>
    public static IReadOnlyList<InterfaceAddress> SystemInterfaces()
    {
        var result = new List<InterfaceAddress>();
        foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
        {
            IPInterfaceProperties props;
            try
            {
                props = nic.GetIPProperties();
            }
            catch (NetworkInformationException)
            {
                continue; // v3 tolerates interfaces whose addresses cannot be read
            }
            foreach (var unicast in props.UnicastAddresses)
            {
                result.Add(new InterfaceAddress(nic.Name, unicast.Address));
            }
        }
        return result;
    }

    /// <summary>By interface name (byte order), then by the address's 16-byte form (IPv4 as <c>::ffff:a.b.c.d</c>).</summary>
    public static IReadOnlyList<InterfaceAddress> Sort(IEnumerable<InterfaceAddress> interfaces) =>
        [.. interfaces.OrderBy(i => i.Name, StringComparer.Ordinal).ThenBy(i => To16(i.Address), ByteComparer.Instance)];

    /// <summary>Go's <c>IP.String()</c>: dotted IPv4 (also for IPv4-mapped IPv6), canonical IPv6 without a zone.</summary>
    public static string Format(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4().ToString();
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            return new IPAddress(address.GetAddressBytes()).ToString();
        }
        return address.ToString();
    }

    private static byte[] To16(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetwork ? address.MapToIPv6().GetAddressBytes() : address.GetAddressBytes();

    private static bool IsIPv4(IPAddress a) => a.AddressFamily == AddressFamily.InterNetwork || a.IsIPv4MappedToIPv6;

    private static (Spec? Spec, string? Error) Parse(string text)
    {
        if (text == "inet")
        {
            return (new InetSpec(text, "*", false), null);
        }
        if (text == "inet6")
        {
            return (new InetSpec(text, "*", true), null);
        }
        if (text.StartsWith("static:", StringComparison.Ordinal))
        {
            var ip = text["static:".Length..];
            // v3: a value Go's Atoi accepts is not a static IP; it then fails as an unknown spec below.
            if (!IsGoAtoi(ip))
            {
                if (!TryParseGoIp(ip, out var address))
                {
                    return (null, $"Unable to parse static ip static: in {text}");
                }
                return (new StaticSpec(text, address), null);
            }
        }
        var match = SpecPattern().Match(text);
        if (match.Success)
        {
            var name = match.Groups["name"].Value;
            if (match.Groups["index"].Success)
            {
                var digits = match.Groups["index"].Value;
                if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
                {
                    return (null, $"Unable to parse index {digits} in {text}");
                }
                return (new IndexSpec(text, name, n), null);
            }
            var v6 = match.Groups["version"].Success && match.Groups["version"].Value == "inet6";
            return (new InetSpec(text, name, v6), null);
        }
        if (TryParseCidr(text, out var network, out var prefix))
        {
            return (new CidrSpec(text, network, prefix), null);
        }
        return (null, $"Unable to parse interface spec: {text}");
    }

    private static bool IsGoAtoi(string s)
    {
        var digits = s.StartsWith('+') || s.StartsWith('-') ? s[1..] : s;
        return digits.Length > 0 && digits.All(char.IsAsciiDigit)
            && long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _);
    }

    /// <summary>Go's <c>net.ParseIP</c>: dotted quad or IPv6 text, no zone, no brackets.</summary>
    private static bool TryParseGoIp(string s, out IPAddress address)
    {
        address = IPAddress.None;
        if (s.Length == 0 || s.Contains('%', StringComparison.Ordinal) || s.Contains('[', StringComparison.Ordinal))
        {
            return false;
        }
        if (s.Contains(':', StringComparison.Ordinal))
        {
            return IPAddress.TryParse(s, out address!) && address.AddressFamily == AddressFamily.InterNetworkV6;
        }
        var parts = s.Split('.');
        if (parts.Length != 4 || parts.Any(p => p.Length is 0 or > 3 || !p.All(char.IsAsciiDigit) || int.Parse(p, CultureInfo.InvariantCulture) > 255))
        {
            return false;
        }
        address = IPAddress.Parse(s);
        return true;
    }

    private static bool TryParseCidr(string text, out IPAddress network, out int prefix)
    {
        network = IPAddress.None;
        prefix = 0;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0 || !TryParseGoIp(text[..slash], out var ip))
        {
            return false;
        }
        var bits = text[(slash + 1)..];
        var max = ip.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        if (bits.Length == 0 || !bits.All(char.IsAsciiDigit) || !int.TryParse(bits, NumberStyles.None, CultureInfo.InvariantCulture, out prefix) || prefix > max)
        {
            return false;
        }
        network = Mask(ip, prefix);
        return true;
    }

    private static IPAddress Mask(IPAddress ip, int prefix)
    {
        var bytes = ip.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var keep = Math.Clamp(prefix - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - keep));
        }
        return new IPAddress(bytes);
    }

    private abstract record Spec(string Text)
    {
        public abstract bool Matches(int index, InterfaceAddress candidate);

        /// <summary>Go's <c>%s</c> of v3's spec struct, for the no-match message.</summary>
        public abstract string GoString();
    }

    private sealed record InetSpec(string Text, string Name, bool IPv6) : Spec(Text)
    {
        public override bool Matches(int index, InterfaceAddress candidate)
        {
            if (Name != "*" && Name != candidate.Name)
            {
                return false;
            }
            if (Name == "*" && IPAddress.IsLoopback(candidate.Address))
            {
                return false;
            }
            return IPv6 != IsIPv4(candidate.Address);
        }

        public override string GoString() => $"{{{Text} {Name} %!s(bool={(IPv6 ? "true" : "false")})}}";
    }

    private sealed record IndexSpec(string Text, string Name, long Index) : Spec(Text)
    {
        public override bool Matches(int index, InterfaceAddress candidate) => Name == candidate.Name && Index == index;

        public override string GoString() => $"{{{Text} {Name} %!s(int={Index.ToString(CultureInfo.InvariantCulture)})}}";
    }

    private sealed record CidrSpec(string Text, IPAddress Network, int Prefix) : Spec(Text)
    {
        public override bool Matches(int index, InterfaceAddress candidate)
        {
            // Go's IPNet.Contains: an IPv4 network holds only IPv4 addresses, an IPv6 one only IPv6.
            var address = candidate.Address.IsIPv4MappedToIPv6 ? candidate.Address.MapToIPv4() : candidate.Address;
            if (address.AddressFamily != Network.AddressFamily)
            {
                return false;
            }
            return Mask(address, Prefix).Equals(Network);
        }

        public override string GoString() => $"{{{Text} {Format(Network)}/{Prefix.ToString(CultureInfo.InvariantCulture)}}}";
    }

    private sealed record StaticSpec(string Text, IPAddress Ip) : Spec(Text)
    {
        public override bool Matches(int index, InterfaceAddress candidate) => false;

        public override string GoString() => $"{{{Text} static {Format(Ip)}}}";
    }

    private sealed class ByteComparer : IComparer<byte[]>
    {
        public static readonly ByteComparer Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
