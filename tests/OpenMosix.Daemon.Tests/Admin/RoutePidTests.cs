using System.Globalization;
using System.Text;
using System.Text.Json;
using OpenMosix.Admin;
using OpenMosix.Daemon.Admin;
using OpenMosix.Linux;

namespace OpenMosix.Daemon.Tests.Admin;

/// <summary>Every route that names a process reads its PID the same way, before anything else.</summary>
public sealed class RoutePidTests
{
    // The PID is read before any of omd's state is touched: the routes need none of it to refuse one.
    private static readonly AdminRoutes Routes = new(null!, null!, DateTimeOffset.UtcNow, null!, null!);

    [Theory]
    [InlineData("GET", "/v1/procs/{0}")]
    [InlineData("POST", "/v1/procs/{0}/migrate")]
    [InlineData("POST", "/v1/procs/{0}/adopt")]
    [InlineData("POST", "/v1/procs/{0}/release")]
    [InlineData("POST", "/v1/procs/{0}/signal")]
    public void A_route_refuses_what_is_not_a_positive_pid_with_the_same_one_line_answer(string method, string path)
    {
        foreach (var text in new[] { "0", "-5", "+5", "12x", "4294967296", "%20" })
        {
            var response = Routes.Handle(new HttpRequest(method, string.Format(CultureInfo.InvariantCulture, path, text),
                Encoding.UTF8.GetBytes("{\"target\":\"2\",\"signal\":15}")), new PeerCredentials(1, 0, 0));

            Assert.Equal(400, response.Status);
            Assert.Equal($"'{text}' is not a PID", JsonSerializer.Deserialize(response.Body, AdminJsonContext.Default.ErrorReply)!.Error);
        }
    }
}
