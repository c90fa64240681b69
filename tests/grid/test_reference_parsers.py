"""The tricky mappings of the reference readers, on tiny hand-made files."""

from __future__ import annotations

import pytest

from grid.importers import ReferenceDataError, grid_points
from siting.importers import reference


class RteTests:
    def test_it_reads_voltage_labels_and_keeps_rows_without_a_voltage_unconnectable(self, tmp_path):
        path = tmp_path / "postes.csv"
        path.write_text(
            "Code poste;Nom poste;FONCTION;Etat;Tension (kV);Longitude poste (DD);Latitude poste (DD);Géo-point poste (DD)\n"
            "A;Alpha;Poste de transformation;EN EXPLOITATION;63kV;2.0;48.0;x\n"
            "B;Beta;Poste de transformation;EN EXPLOITATION;HORS TENSION;2.1;48.1;x\n"
            "C;Gamma;Point de piquage;ACCORD ADMINISTRATIF;<45kV;2.2;48.2;x\n"
            "A;Alpha bis;Poste de transformation;EN EXPLOITATION;225kV;2.0;48.0;x\n",
            encoding="utf-8",
        )
        frame, notes = grid_points.rte_substations(path)
        got = {r.external_id: (r.voltage_kv, r.status) for r in frame.itertuples()}
        assert got["rte:A"] == (225.0, "in_service")  # a duplicated code keeps its highest voltage
        assert got["rte:B"][1] == "de_energised" and got["rte:B"][0] != got["rte:B"][0]  # NaN voltage
        assert got["rte:C"][1] == "planned"
        assert notes["duplicate_code"] == 1

    def test_it_rejects_an_unknown_label_naming_row_and_column(self, tmp_path):
        path = tmp_path / "postes.csv"
        path.write_text(
            "Code poste;Nom poste;FONCTION;Etat;Tension (kV);Longitude poste (DD);Latitude poste (DD)\n"
            "A;Alpha;Poste;EN EXPLOITATION;999 volts;2.0;48.0\n",
            encoding="utf-8",
        )
        with pytest.raises(
            ReferenceDataError, match=r"postes.csv: row 2, column 'Tension \(kV\)': unknown label '999 volts'"
        ):
            grid_points.rte_substations(path)


class GridkitTests:
    def test_it_maps_voltages_and_skips_joints_dc_and_france(self, tmp_path):
        path = tmp_path / "buses.csv"
        path.write_text(
            "bus_id,station_id,voltage,dc,symbol,under_construction,tags,x,y\n"
            '1,10,380,f,Substation,f,\'"country"=>"DE", "TSO"=>"Amprion"\',7.0,51.0\n'
            '2,11,220,f,Substation,f,\'"country"=>"ES"\',-3.0,40.0\n'
            '3,12,380,f,joint,f,\'"country"=>"DE"\',7.1,51.1\n'
            '4,13,380,t,Substation,f,\'"country"=>"DE"\',7.2,51.2\n'
            '5,14,380,f,Substation,f,\'"country"=>"FR"\',2.0,48.0\n'
            '6,10,380,f,Substation,f,\'"country"=>"DE"\',7.0,51.0\n',
            encoding="utf-8",
        )
        frame, notes = grid_points.gridkit_buses(path, exclude_countries={"FR"})
        assert frame[["external_id", "voltage_kv", "country"]].values.tolist() == [
            ["gridkit:1", 400.0, "DE"],
            ["gridkit:2", 225.0, "ES"],
        ]
        assert frame.loc[0, "operator"] == "Amprion"
        assert notes == {
            "dc": 1,
            "under_construction": 0,
            "joint": 1,
            "no_country": 0,
            "excluded_country": 1,
            "unknown_voltage": 0,
            "below_220_kv": 0,
            "outside_scope": 0,
            "same_station_and_voltage": 1,
        }


class SiteMappingTests:
    @pytest.mark.parametrize(
        ("site_type", "activity", "expected"),
        [
            ("friche industrielle", "Sidérurgie, métallurgie, coke", "steel"),
            ("inconnu", "Fabrication de produits chimiques organiques", "chemicals"),
            ("friche ferroviaire", "", "rail"),
            ("inconnu", "Raffinage de pétrole", "refinery"),
            ("inconnu", "Production et distribution d'électricité (centrale thermique)", "other_plant"),
            ("friche militaire", "Caserne", "military"),
            ("inconnu", "Station-service", "other"),
        ],
    )
    def test_it_maps_former_activities(self, site_type, activity, expected):
        assert reference.former_use_from_text(site_type, activity) == expected

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("{'17W100P100P0207N', '17W100P100P0208L'}", {"17W100P100P0207N", "17W100P100P0208L"}),
            ("", set()),
            (float("nan"), set()),
            ("not a set", set()),
            ("{'A'}", {"A"}),
        ],
    )
    def test_it_parses_eic_literals_safely(self, text, expected):
        assert reference._eic_set(text) == expected
