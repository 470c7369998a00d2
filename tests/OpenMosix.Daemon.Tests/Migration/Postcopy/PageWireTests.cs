using OpenMosix.Cluster.Transport;
using OpenMosix.Daemon.Migration.Postcopy;

namespace OpenMosix.Daemon.Tests.Migration.Postcopy;

public sealed class PageWireTests
{
    [Fact]
    public void A_request_and_its_answers_survive_the_wire()
    {
        var request = PageWire.DecodeRequest(PageWire.EncodeRequest(7, 0x7ffd_1234_5000, 16 * PageWire.PageSize), 2);
        Assert.Equal(new PageWire.Request(7, 0x7ffd_1234_5000, 16 * PageWire.PageSize), request);

        var answer = PageWire.NewAnswer(7, 2 * PageWire.PageSize);
        answer.AsSpan(PageWire.AnswerHeader).Fill(0x5A);
        var decoded = PageWire.DecodeAnswer(answer, 1);
        Assert.Equal((7u, false, null, 2 * PageWire.PageSize), (decoded.Id, decoded.Zero, decoded.Refused, decoded.Data.Length));
        Assert.All(decoded.Data.ToArray(), b => Assert.Equal(0x5A, b));

        var zero = PageWire.DecodeAnswer(PageWire.ZeroAnswer(8), 1);
        Assert.Equal((8u, true, 0), (zero.Id, zero.Zero, zero.Data.Length));
        Assert.Equal(PageWire.AnswerHeader, PageWire.ZeroAnswer(8).Length);

        var refused = PageWire.DecodeAnswer(PageWire.Refusal(9, "gone"), 1);
        Assert.Equal((9u, "gone"), (refused.Id, refused.Refused));
    }

    [Theory]
    [InlineData(0x1001UL, 4096)]
    [InlineData(0x1000UL, 100)]
    [InlineData(0x1000UL, 0)]
    [InlineData(0x1000UL, PageWire.MaxRun + PageWire.PageSize)]
    public void A_request_that_is_not_whole_pages_within_the_limit_is_not_sent(ulong address, int length) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => PageWire.EncodeRequest(1, address, length));

    [Fact]
    public void A_malformed_request_or_answer_is_one_line_naming_the_peer()
    {
        var request = PageWire.EncodeRequest(1, 0x1000, PageWire.PageSize);
        request[13] = 3; // length 4099
        var error = Assert.Throws<LinkException>(() => PageWire.DecodeRequest(request, 4));
        Assert.StartsWith("node 4 asked for 4099 bytes", error.Message, StringComparison.Ordinal);
        Assert.Contains("malformed page request", Assert.Throws<LinkException>(() => PageWire.DecodeRequest(new byte[5], 4)).Message, StringComparison.Ordinal);
        Assert.Contains("malformed page answer", Assert.Throws<LinkException>(() => PageWire.DecodeAnswer([2, 0, 0], 4)).Message, StringComparison.Ordinal);
        var badZero = PageWire.NewAnswer(1, PageWire.PageSize);
        badZero[5] = 1;
        Assert.Contains("zero pages with 4096 bytes", Assert.Throws<LinkException>(() => PageWire.DecodeAnswer(badZero, 4)).Message, StringComparison.Ordinal);
        var badFlag = PageWire.NewAnswer(1, 0);
        badFlag[5] = 9;
        Assert.Throws<LinkException>(() => PageWire.DecodeAnswer(badFlag, 4));
    }
}
