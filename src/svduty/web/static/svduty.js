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
  // The focused area's outline is drawn in a pane above every area, in GOV.UK's focus colours
  // (yellow under black), so it shows on dark and light fills alike.
  map.createPane("svduty-focus");
  map.getPane("svduty-focus").style.zIndex = 650;
  map.getPane("svduty-focus").style.pointerEvents = "none";
  let outline = null;
  let focused = null;
  const unfocus = () => {
    if (focused) {
      focused.closeTooltip();
      focused = null;
    }
    if (outline) {
      outline.remove();
      outline = null;
    }
  };
  const open = (code) => {
    window.location.href = `${element.dataset.drill}${encodeURIComponent(code)}?${element.dataset.query}`;
  };
  // One Tab stop for the whole map (a "roving" tabindex): the arrow keys move between areas.
  const paths = [];
  const moveTo = (index) => {
    const next = paths[(index + paths.length) % paths.length];
    paths.forEach((p) => p.setAttribute("tabindex", p === next ? "0" : "-1"));
    next.focus();
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
        path.setAttribute("tabindex", paths.length === 0 ? "0" : "-1");
        path.setAttribute("role", "link");
        path.setAttribute("aria-label", label);
        paths.push(path);
        path.addEventListener("keydown", (event) => {
          const here = paths.indexOf(path);
          const moves = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };
          if (event.key === "Enter" || event.key === " ") {
            event.preventDefault();
            open(feature.properties.code);
          } else if (event.key in moves) {
            event.preventDefault();
            event.stopPropagation();
            moveTo(here + moves[event.key]);
          } else if (event.key === "Home" || event.key === "End") {
            event.preventDefault();
            event.stopPropagation();
            moveTo(event.key === "Home" ? 0 : paths.length - 1);
          }
        });
        path.addEventListener("focus", () => {
          unfocus();
          focused = shape;
          shape.openTooltip();
          outline = L.layerGroup([
            L.geoJSON(feature, { pane: "svduty-focus", interactive: false,
              style: { color: "#ffdd00", weight: 7, fill: false } }),
            L.geoJSON(feature, { pane: "svduty-focus", interactive: false,
              style: { color: "#0b0c0c", weight: 3, fill: false } }),
          ]).addTo(map);
        });
        path.addEventListener("blur", unfocus);
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
// htmx swaps the panels when the filters change: draw the new map, and say (once, briefly) what
// the figures now show, for screen readers.
document.body.addEventListener("htmx:afterSettle", (event) => {
  drawAll(event.target);
  const status = document.getElementById("panels-status");
  const summary = document.getElementById("summary");
  if (status && summary) {
    status.textContent = `Figures updated: ${summary.textContent.trim()}`;
  }
});
