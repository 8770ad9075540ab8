// The dashboard's map: LSOAs from /api/dashboard/map drawn with Leaflet, without tiles (nothing
// is fetched from elsewhere). Each area is a link: focusable with Tab, Enter or a click opens its
// figures. The table under the map holds the same figures for anyone who cannot use the map.
/* global L */

const HOT = "#d4351c";
const COLD = "#1d70b8";

function describe(p) {
  const rate = p.rate_per_1000 === null ? "no rate" : `${p.rate_per_1000.toFixed(1)} a year per 1,000`;
  const spot = p.hotspot === "not significant" ? "" : `, ${p.hotspot}spot`;
  return `${p.name}: ${p.count.toLocaleString("en-GB")} records, ${rate}${spot}`;
}

function style(feature) {
  const p = feature.properties;
  const spot = p.hotspot === "hot" ? HOT : p.hotspot === "cold" ? COLD : null;
  return {
    fillColor: p.fill,
    fillOpacity: 0.85,
    color: spot || "#505a5f",
    weight: spot ? 3 : 0.6,
  };
}

async function drawMap(element) {
  if (!window.L || element.dataset.drawn === element.dataset.src) {
    return;
  }
  element.dataset.drawn = element.dataset.src;
  const response = await fetch(element.dataset.src, { headers: { Accept: "application/json" } });
  if (!response.ok) {
    element.textContent = "The map could not be loaded; the table below has the same figures.";
    return;
  }
  const data = await response.json();
  if (element._svdutyMap) {
    element._svdutyMap.remove();
  }
  const map = L.map(element, { attributionControl: false, zoomSnap: 0.25, keyboard: true });
  element._svdutyMap = map;
  const open = (code) => {
    window.location.href = `${element.dataset.drill}${encodeURIComponent(code)}?${element.dataset.query}`;
  };
  const layer = L.geoJSON(data, {
    style,
    onEachFeature(feature, shape) {
      const label = describe(feature.properties);
      shape.bindTooltip(label, { sticky: true });
      shape.on("click", () => open(feature.properties.code));
      shape.on("add", () => {
        const path = shape.getElement();
        if (!path) {
          return;
        }
        path.setAttribute("tabindex", "0");
        path.setAttribute("role", "link");
        path.setAttribute("aria-label", label);
        path.addEventListener("keydown", (event) => {
          if (event.key === "Enter" || event.key === " ") {
            event.preventDefault();
            open(feature.properties.code);
          }
        });
        path.addEventListener("focus", () => shape.openTooltip());
        path.addEventListener("blur", () => shape.closeTooltip());
      });
    },
  }).addTo(map);
  const bounds = layer.getBounds();
  if (bounds.isValid()) {
    map.fitBounds(bounds, { padding: [10, 10] });
  }
}

function drawAll(root) {
  root.querySelectorAll("[data-src].svduty-map").forEach((element) => {
    drawMap(element).catch(() => {
      element.textContent = "The map could not be drawn; the table below has the same figures.";
    });
  });
}

drawAll(document);
// htmx swaps the panels when the filters change: draw the new map.
document.body.addEventListener("htmx:afterSettle", (event) => drawAll(event.target));
