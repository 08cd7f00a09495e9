using System.Net;
using Pilot.Supervisor.Discovery.Interfaces;
using Shouldly;
using Xunit;

namespace Pilot.Supervisor.Tests.Discovery;

public sealed class IpSelectorTests
{
    private static InterfaceAddress A(string name, string ip) => new(name, IPAddress.Parse(ip));

    // Deliberately unsorted: the selector sorts by name, then by 16-byte address.
    private static readonly InterfaceAddress[] Machine =
    [
        A("lo", "127.0.0.1"),
        A("eth0", "fe80::1"),
        A("eth0", "10.0.0.5"),
        A("lo", "::1"),
        A("eth1", "192.168.1.9"),
        A("eth1", "2001:db8::9"),
        A("eth0", "10.0.0.4"),
    ];

    [Theory]
    [InlineData("inet", "10.0.0.4")]
    [InlineData("inet6", "fe80::1")]
    [InlineData("eth0", "10.0.0.4")]
    [InlineData("eth0:inet", "10.0.0.4")]
    [InlineData("eth0:inet6", "fe80::1")]
    [InlineData("eth1:inet6", "2001:db8::9")]
    [InlineData("lo", "127.0.0.1")]
    [InlineData("lo:inet6", "::1")]
    [InlineData("eth0[0]", "10.0.0.4")] // ::ffff:10.0.0.4 sorts before fe80::1 in 16-byte form
    [InlineData("192.168.0.0/16", "192.168.1.9")]
    [InlineData("127.0.0.0/8", "127.0.0.1")]
    [InlineData("2001:db8::/32", "2001:db8::9")]
    [InlineData("static:1.2.3.4", "1.2.3.4")]
    [InlineData("static:fdc6:238c::1", "fdc6:238c::1")]
    public void IpSelector_Select_ResolvesEachSpecKind(string spec, string expected)
    {
        IpSelector.Select([spec], Machine).ShouldBe(new IpSelection(expected, null));
    }

    [Fact]
    public void IpSelector_Sort_OrdersByNameThenSixteenByteAddress()
    {
        IpSelector.Sort(Machine).Select(a => a.ToString()).ShouldBe(
            ["eth0:10.0.0.4", "eth0:10.0.0.5", "eth0:fe80::1", "eth1:192.168.1.9", "eth1:2001:db8::9", "lo:::1", "lo:127.0.0.1"]);
    }

    [Fact]
    public void IpSelector_Index_CountsBothFamiliesPerInterface()
    {
        IpSelector.Select(["eth0[1]"], Machine).Ip.ShouldBe("10.0.0.5");
        IpSelector.Select(["eth0[2]"], Machine).Ip.ShouldBe("fe80::1");
        IpSelector.Select(["eth1[1]"], Machine).Ip.ShouldBe("2001:db8::9");
    }

    [Fact]
    public void IpSelector_Specs_AreTriedInOrder()
    {
        IpSelector.Select(["eth9:inet", "eth1:inet", "inet"], Machine).Ip.ShouldBe("192.168.1.9");
        IpSelector.Select(null, Machine).Ip.ShouldBe("10.0.0.4"); // default eth0:inet, inet
        IpSelector.Select([], [A("ens3", "10.1.1.1"), A("lo", "127.0.0.1")]).Ip.ShouldBe("10.1.1.1"); // falls back to inet
    }

    [Fact]
    public void IpSelector_Inet_SkipsLoopback()
    {
        IpSelector.Select(["inet"], [A("lo", "127.0.0.1"), A("lo", "::1")]).Error.ShouldNotBeNull();
        IpSelector.Select(["inet6"], [A("lo", "::1"), A("lo", "127.0.0.1")]).Error.ShouldNotBeNull();
    }

    [Fact]
    public void IpSelector_Format_DropsZoneAndUnmapsIPv4()
    {
        var linkLocal = IPAddress.Parse("fe80::1%2");
        IpSelector.Select(["inet6"], [new InterfaceAddress("eth0", linkLocal)]).Ip.ShouldBe("fe80::1");
        IpSelector.Select(["eth0:inet"], [A("eth0", "::ffff:10.9.8.7")]).Ip.ShouldBe("10.9.8.7");
    }

    [Fact]
    public void IpSelector_NoMatch_ReportsSpecsAndInterfacesAsV3()
    {
        var result = IpSelector.Select(["eth9:inet", "inet6", "eth9[1]", "10.0.0.0/16"], [A("lo", "127.0.0.1"), A("eth0", "192.168.0.2")]);
        result.Ip.ShouldBeNull();
        result.Error.ShouldBe(
            "none of the interface specifications were able to match\n"
            + "Specifications: [{eth9:inet eth9 %!s(bool=false)} {inet6 * %!s(bool=true)} {eth9[1] eth9 %!s(int=1)} {10.0.0.0/16 10.0.0.0/16}]\n"
            + "Interfaces IPs: [eth0:192.168.0.2 lo:127.0.0.1]");
    }

    [Theory]
    [InlineData("eth0:inet5", "Unable to parse interface spec: eth0:inet5")]
    [InlineData(":inet", "Unable to parse interface spec: :inet")]
    [InlineData("127.0.0.1", "Unable to parse interface spec: 127.0.0.1")]
    [InlineData("eth0[-1]", "Unable to parse interface spec: eth0[-1]")]
    [InlineData("br-1a2b", "Unable to parse interface spec: br-1a2b")]
    [InlineData("static:123", "Unable to parse interface spec: static:123")]
    [InlineData("static:abcdef", "Unable to parse static ip static: in static:abcdef")]
    [InlineData("eth0[99999999999999999999]", "Unable to parse index 99999999999999999999 in eth0[99999999999999999999]")]
    public void IpSelector_BadSpec_GivesV3Error(string spec, string error)
    {
        IpSelector.Select([spec], Machine).ShouldBe(new IpSelection(null, error));
    }

    [Fact]
    public void IpSelector_BadSpec_FailsEvenWhenAnotherSpecMatches()
    {
        IpSelector.Select(["inet", "bogus-", "eth0:inet7"], Machine).Error
            .ShouldBe("Unable to parse interface spec: bogus-\nUnable to parse interface spec: eth0:inet7");
    }

    [Fact]
    public void IpSelector_Cidr_MatchesOnlyItsFamily()
    {
        IpSelector.Select(["::/0"], [A("eth0", "10.0.0.1")]).Error.ShouldNotBeNull();
        IpSelector.Select(["0.0.0.0/0"], [A("eth0", "fe80::1"), A("eth0", "10.0.0.1")]).Ip.ShouldBe("10.0.0.1");
    }

    [Fact]
    public void IpSelector_SystemInterfaces_IncludesLoopback()
    {
        IpSelector.SystemInterfaces().ShouldContain(a => IPAddress.IsLoopback(a.Address));
        IpSelector.Select(["127.0.0.0/8"]).Ip.ShouldNotBeNull();
    }
}
